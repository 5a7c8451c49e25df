import { clip, type NodeStatus, status } from '../core/status';
import type { ConnectionState } from './connection';

/** A reader's or writer's status for the endpoint's connection state. */
export function connectionStatus(
  state: ConnectionState,
  why: string | undefined,
  connectedText: string,
): NodeStatus {
  switch (state) {
    case 'connected':
      return status.connected(connectedText);
    case 'connecting':
      return status.connecting(why ? `connecting (${why})` : 'connecting');
    case 'backoff':
      return status.disconnected(clip(why ?? 'disconnected'));
    case 'closed':
      return status.idle('closed');
    default:
      return status.idle('idle');
  }
}
