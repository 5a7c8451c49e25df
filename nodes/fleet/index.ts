/** Fleet of edge boxes: singleton leases kept by the MQTT broker (./lease). */
export * from './lease';
