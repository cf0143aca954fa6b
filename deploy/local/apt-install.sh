# Sourced by the ensure-*.sh scripts: installs the Debian packages given, quietly, with sudo when
# not root and no recommended extras. Callers check first what is missing.
apt_install() {
  local sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "Installing $* (Debian packages)..."
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
