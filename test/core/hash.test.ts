import assert from 'node:assert/strict';
import { sha256 } from '../../nodes/core/hash';

describe('core/hash', () => {
  it('gives the SHA-256 of bytes and of UTF-8 text in lowercase hex (FIPS 180-2 test vector "abc")', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    assert.equal(sha256('abc'), abc);
    assert.equal(sha256(new Uint8Array([0x61, 0x62, 0x63])), abc);
    assert.equal(sha256(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
