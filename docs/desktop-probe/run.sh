#!/bin/sh
# run inside xvfb-run: start tauri-driver, wait for port, run the W3C script
/tmp/tauri-probe/td/bin/tauri-driver --port 4444 --native-driver /usr/bin/WebKitWebDriver > /tmp/tauri-probe/td.log 2>&1 &
TD=$!
for i in $(seq 1 50); do (echo > /dev/tcp/127.0.0.1/4444) 2>/dev/null && break; sleep 0.1; done
node /tmp/tauri-probe/e2e/wd.mjs; rc=$?
kill $TD
exit $rc
