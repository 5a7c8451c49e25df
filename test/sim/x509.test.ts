/**
 * X.509 user authentication on the simulator's OPC UA server: only user certificates on its trust list
 * (given at start, in the users/trusted folder, or added while running) open a session; any other is
 * refused and kept in users/rejected.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  MessageSecurityMode,
  OPCUACertificateManager,
  type OPCUAClient,
  SecurityPolicy,
  UserTokenType,
} from 'node-opcua';
import { TaktError } from '../../nodes/core/errors';
import { derCertificate } from '../../nodes/opcua/connection';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { freePort } from '../helpers/net';
import { testClient } from '../helpers/opcua';

interface UserCert {
  certFile: string;
  keyFile: string;
}

/** A self-signed user certificate and its key, made by node-opcua's PKI (no openssl needed). */
async function makeUser(dir: string, name: string): Promise<UserCert> {
  const pki = new OPCUACertificateManager({ rootFolder: join(dir, `user-${name}`) });
  await pki.initialize();
  const certFile = join(dir, `user-${name}`, 'own', 'certs', 'user.pem');
  await pki.createSelfSignedCertificate({
    outputFile: certFile,
    subject: `/CN=${name}`,
    applicationUri: `urn:takt:user:${name}`,
    dns: [],
    startDate: new Date(Date.now() - 86400000),
    validity: 30,
  });
  const keyFile = pki.privateKey;
  await pki.dispose();
  return { certFile, keyFile };
}

describe('sim OPC UA X.509 users', function () {
  this.timeout(90000);
  let dir: string;
  let runner: SimRunner;
  let operator: UserCert;
  let stranger: UserCert;
  let preloaded: UserCert;
  const clients: OPCUAClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'takt-sim-x509-'));
    operator = await makeUser(dir, 'operator');
    stranger = await makeUser(dir, 'stranger');
    preloaded = await makeUser(dir, 'preloaded');
    // A certificate put in the trust-list folder before start is trusted as well.
    const trusted = join(dir, 'pki-server', 'users', 'trusted', 'certs');
    mkdirSync(trusted, { recursive: true });
    copyFileSync(preloaded.certFile, join(trusted, 'preloaded.pem'));
    runner = new SimRunner(DEFAULT_PLANT, {
      seed: 3,
      opcua: {
        port: await freePort(),
        pkiDir: join(dir, 'pki-server'),
        userCertificates: [operator.certFile],
      },
    });
    await runner.start();
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.disconnect()));
    await runner.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function readAs(user: UserCert): Promise<string> {
    const client = testClient(join(dir, 'pki-client'), {
      securityMode: MessageSecurityMode.SignAndEncrypt,
      securityPolicy: SecurityPolicy.Basic256Sha256,
    });
    clients.push(client);
    await client.connect(runner.opcua!.endpointUrl);
    const session = await client.createSession({
      type: UserTokenType.Certificate,
      certificateData: derCertificate(readFileSync(user.certFile)),
      privateKey: readFileSync(user.keyFile, 'utf8'),
    });
    const dv = await session.read({ nodeId: 'i=2256', attributeId: AttributeIds.Value }); // ServerStatus
    await session.close();
    return dv.statusCode.name;
  }

  it('opens a session for a user certificate on the trust list', async () => {
    assert.equal(await readAs(operator), 'Good');
    assert.equal(await readAs(preloaded), 'Good');
  });

  it('refuses an unknown user certificate, and keeps it among the rejected', async () => {
    await assert.rejects(readAs(stranger), /BadIdentityTokenRejected/);
    const rejected = readdirSync(join(dir, 'pki-server', 'users', 'rejected'));
    assert.equal(rejected.length, 1, `rejected: ${rejected.join(', ')}`);
  });

  it('accepts a certificate added to the trust list while running', async () => {
    const other = await makeUser(dir, 'late');
    await assert.rejects(readAs(other), /BadIdentityTokenRejected/);
    await runner.opcua!.trustUserCertificate(other.certFile);
    assert.equal(await readAs(other), 'Good');
  });

  it('refuses to start with a user certificate file that is not a certificate', async () => {
    const second = new SimRunner(DEFAULT_PLANT, {
      opcua: {
        port: await freePort(),
        pkiDir: join(dir, 'pki-second'),
        userCertificates: [operator.keyFile],
      },
    });
    try {
      await assert.rejects(
        second.start(),
        (e: TaktError) => e.code === 'sim.badCertificate' && e.message.includes(operator.keyFile),
      );
    } finally {
      await second.stop();
    }
  });
});
