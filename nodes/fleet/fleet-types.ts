/** The takt-fleet config node as its users (takt-fleet-lease) see it: types only. */
import type { Node } from 'node-red';
import type { LeaseKeeper } from './lease';

export interface FleetNode extends Node {
  /** This box's lease keeper, started on first use; throws TaktError when the configuration is unusable. */
  keeper(): LeaseKeeper;
  /** The lease names this box may hold. */
  leases: string[];
  configError?: string;
}
