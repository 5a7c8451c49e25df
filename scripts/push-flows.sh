#!/usr/bin/env bash
# Pushes one flow file to many Takt boxes through Node-RED's admin API (POST /flows, full deploy), the
# same file everywhere: box-specific values come from each box's environment (BOX, LINE, MQTT_URLS ...).
#
#   scripts/push-flows.sh flows/fleet-box.json http://box1:1880 http://box2:1880 http://box3:1880
# With adminAuth on the boxes, set TAKT_ADMIN_USER and TAKT_ADMIN_PASSWORD (the plain password): a token is
# fetched from each box first (POST /auth/token). Exit status: the number of boxes that refused the flows.
set -uo pipefail
file=${1:?usage: push-flows.sh <flow file> <box admin URL>...}
shift
failed=0
for box in "$@"; do
  auth=()
  if [ -n "${TAKT_ADMIN_PASSWORD:-}" ]; then
    token=$(curl -fsS -X POST "$box/auth/token" \
      --data-urlencode "client_id=node-red-admin" --data-urlencode "grant_type=password" \
      --data-urlencode "scope=*" --data-urlencode "username=${TAKT_ADMIN_USER:-admin}" \
      --data-urlencode "password=$TAKT_ADMIN_PASSWORD" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))') || token=""
    [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  fi
  if curl -fsS -X POST "$box/flows" "${auth[@]}" -H "Content-Type: application/json" \
    -H "Node-RED-Deployment-Type: full" --data-binary "@$file" >/dev/null; then
    echo "$box: deployed $file"
  else
    echo "$box: refused" >&2
    failed=$((failed + 1))
  fi
done
exit "$failed"
