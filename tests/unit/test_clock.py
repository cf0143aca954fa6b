"""The clock follows the municipality's configured time zone (a town is one YAML file)."""

import datetime as dt
from zoneinfo import ZoneInfo

import yaml

from shared import clock, municipality, settings


def test_now_and_iso_are_in_the_configured_zone(tmp_path, monkeypatch):
    data = yaml.safe_load(settings.municipality_config_path().read_text(encoding="utf-8"))
    data["timezone"] = "Pacific/Auckland"
    other = tmp_path / "town.yaml"
    other.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("MUNICIPALITY_CONFIG", str(other))
    municipality.load.cache_clear()
    try:
        assert clock.now().tzinfo == ZoneInfo("Pacific/Auckland")
        noon_utc = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
        assert clock.iso(noon_utc) == "2026-12-01T13:00:00+13:00"  # NZDT
        assert clock.local_day_range(dt.date(2026, 12, 1), None)["$gte"].utcoffset() == dt.timedelta(hours=13)
    finally:
        monkeypatch.delenv("MUNICIPALITY_CONFIG")
        municipality.load.cache_clear()
    assert clock.now().utcoffset() == dt.timedelta(hours=9)  # Miyakonojo again
