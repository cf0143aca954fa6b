"""Code the mynacar services share: event contract, data access, HTTP helpers, config."""
