#!/usr/bin/env bash
# Installs the Debian packages the tests drive for real (Dovecot, PostgreSQL,
# LibreOffice Writer and Calc with python3-uno, pandoc, Chromium, poppler-utils, a Times New
# Roman metric twin for rendering exports, systemd for `systemd-analyze verify`
# of deploy/intake.service), nginx (the dashboard behind TLS), gettext (the message catalog)
# when any is missing. Needs root (CI runs as root).
set -euo pipefail
need=()
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
# One LibreOffice kept running for conversions is driven through UNO by the system Python.
/usr/bin/python3 -c "import uno" >/dev/null 2>&1 || need+=(python3-uno)
command -v pandoc >/dev/null 2>&1 || need+=(pandoc)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# scripts/render_export.py: xlsx through Calc, html through Chromium, PDF facts and PNGs through poppler.
[ -e /usr/lib/libreoffice/program/libsclo.so ] || need+=(libreoffice-calc-nogui)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# The dashboard behind nginx with TLS (deploy/nginx-intake.conf, tests/test_deploy_web.py).
[ -x /usr/sbin/nginx ] || need+=(nginx)
# `make catalogs` and tests/test_cli_language.py: xgettext, msgmerge, msgfmt.
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
fc-list 2>/dev/null | grep -q "Liberation Serif" || need+=(fonts-liberation2)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-system: missing ${need[*]}; run as root or install them: apt-get install ${need[*]}" >&2
  exit 1
fi
echo "setup-system: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
