#!/usr/bin/env bash
# A fleet of three Takt edge boxes on loopback, without containers: a three-node nats-server cluster
# (MQTT 3.1.1 listener per node, JetStream sessions and retained messages replicated on all three),
# VictoriaMetrics, and three Node-RED runtimes (npm start) running the SAME flow file (flows/fleet-box.json)
# with their own BOX, LINE, port and user directory. Ctrl-C stops everything.
#
#   npm run build && scripts/fleet-demo.sh
# Then open http://127.0.0.1:<port>/dashboard/fleet of each box (printed below); kill one box's PID and watch
# the lease "area-scheduler" move (the Fleet page, debug "lease holder"); kill a nats-server and the boxes
# (their broker node and Sparkplug simulator) move to the others.
# Needs: nats-server, victoria-metrics (Debian packages), Node 22+ (node_modules/.bin/node is used if there).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
run=$(mktemp -d /tmp/takt-fleet-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "logs and data were in $run (removed)"
  rm -rf "$run"
}
trap cleanup EXIT INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_port() {
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not open 127.0.0.1:$2 (log: $run)" >&2
  return 1
}

# --- broker cluster ---------------------------------------------------------------------------------
declare -a client route mqtt
for i in 1 2 3; do client[$i]=$(free_port); route[$i]=$(free_port); mqtt[$i]=$(free_port); done
routes="nats-route://127.0.0.1:${route[1]}, nats-route://127.0.0.1:${route[2]}, nats-route://127.0.0.1:${route[3]}"
for i in 1 2 3; do
  cat >"$run/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${client[$i]}
jetstream { store_dir: "$run/n$i" }
cluster { name: takt, listen: 127.0.0.1:${route[$i]}, routes: [$routes] }
mqtt { listen: 127.0.0.1:${mqtt[$i]}, stream_replicas: 3, ack_wait: "5s" }
CONF
  nats-server -c "$run/n$i.conf" >"$run/n$i.log" 2>&1 &
  pids+=($!)
  echo "nats-server n$i: pid $!, MQTT on 127.0.0.1:${mqtt[$i]}"
done
for i in 1 2 3; do wait_port "nats n$i" "${mqtt[$i]}"; done
sleep 3 # JetStream elects its leaders

# --- history database -------------------------------------------------------------------------------
vm_port=$(free_port)
victoria-metrics -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$run/vm" >"$run/vm.log" 2>&1 &
pids+=($!)
wait_port victoria-metrics "$vm_port"
echo "VictoriaMetrics: http://127.0.0.1:$vm_port (vmui: /vmui)"

# --- three boxes, one flow file -----------------------------------------------------------------------
for i in 1 2 3; do
  port=$(free_port)
  # Each box lists the cluster's nodes starting with a different one.
  urls=""
  for k in 0 1 2; do j=$(((i - 1 + k) % 3 + 1)); urls+="${urls:+, }mqtt://127.0.0.1:${mqtt[$j]}"; done
  mkdir -p "$run/box$i"
  cp flows/fleet-box.json "$run/box$i/flows.json"
  # MQTT_URL (set: flows/settings.js starts no embedded broker); the flow itself uses MQTT_URLS.
  BOX="box$i" LINE="line$i" MQTT_URLS="$urls" MQTT_URL="mqtt://127.0.0.1:${mqtt[$i]}" \
    INFLUX_URL="http://127.0.0.1:$vm_port" PORT="$port" TAKT_USER_DIR="$run/box$i" \
    TAKT_FLOW_FILE="$run/box$i/flows.json" TAKT_CREDENTIAL_SECRET=fleet-demo \
    node node_modules/node-red/red.js -s flows/settings.js >"$run/box$i.log" 2>&1 &
  pids+=($!)
  echo "box$i (line$i): pid $!, editor http://127.0.0.1:$port, fleet page http://127.0.0.1:$port/dashboard/fleet, log $run/box$i.log"
done
echo
echo "Running. Kill a box (kill -9 <pid>) or a nats-server to watch work move; Ctrl-C stops the fleet."
wait
