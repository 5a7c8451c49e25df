/**
 * SHA-256 as lowercase hex: a model file against its registry card (models/, learn/, vision/, the audit
 * probe of guard/) and the links of the audit log's hash chain (audit.ts). No Node-RED import.
 */
import { createHash } from 'node:crypto';

/** The SHA-256 of bytes, or of text as UTF-8, in lowercase hex. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
