/**
 * One box of the lease handover tests, run as a child process (the test kills it with SIGKILL): an MQTT
 * connection whose will clears the box's heartbeat, and a LeaseKeeper. Prints one JSON line per change of
 * whether it holds the lease: {box, holds, t} (t: epoch ms).
 *
 *   node fleet-lease-child.js <brokerUrls> <box> <lease>
 */
import { LeaseKeeper } from '../../nodes/fleet/lease';
import { MqttBrokerConnection } from '../../nodes/mqtt/connection';

const [urls, box, lease] = process.argv.slice(2);
const connection = new MqttBrokerConnection({
  url: urls,
  clientId: `${box}_fleet`,
  keepaliveSec: 5,
  reconnectInitialMs: 200,
  reconnectMaxMs: 1000,
  will: LeaseKeeper.will('takt/fleet', box),
});
const keeper = new LeaseKeeper(connection, { box, leases: [lease] });
let held = false;
const report = () => {
  const h = keeper.holds(lease);
  if (h === held) return;
  held = h;
  process.stdout.write(`${JSON.stringify({ box, holds: h, t: Date.now() })}\n`);
};
keeper.on('change', report);
keeper.start();
setInterval(report, 50);
