import assert from 'node:assert/strict';
import {
  ANONYMOUS,
  claimOf,
  identityOf,
  identityOfRequest,
  mqttTopicUser,
  userName,
} from '../../nodes/core/identity';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('core/identity', () => {
  it('reads user names from strings and user records', () => {
    assert.equal(userName(' ana '), 'ana');
    assert.equal(userName({ username: 'ana', email: 'x@y' }), 'ana');
    assert.equal(userName({ email: 'ana@plant' }), 'ana@plant');
    assert.equal(userName({ userId: 'u-7' }), 'u-7');
    assert.equal(userName(''), undefined);
    assert.equal(userName({}), undefined);
    assert.equal(userName(7), undefined);
  });

  it('records a name written in the message as an unauthenticated claim', () => {
    assert.deepEqual(identityOf({ approval: { id: 'a', user: 'boss' } }), {
      user: 'boss',
      authenticated: false,
      source: 'message',
      claim: 'boss',
    });
    assert.equal(claimOf({ payload: { approvedBy: 'qa' } }), 'qa');
    assert.equal(identityOf({ payload: { version: 2, approvedBy: 'qa' } })?.authenticated, false);
    assert.equal(identityOf({ payload: 1 }), undefined);
  });

  it('takes the admin API user only when Node-RED logged one in', () => {
    assert.deepEqual(identityOfRequest({ user: { username: 'ana', permissions: '*' } }, 'boss'), {
      user: 'ana',
      authenticated: true,
      source: 'admin',
      claim: 'boss',
    });
    // No adminAuth: no req.user; the body's name is a claim.
    assert.deepEqual(identityOfRequest({}, 'boss'), {
      user: 'boss',
      authenticated: false,
      source: 'admin',
      claim: 'boss',
    });
    assert.deepEqual(identityOfRequest({ user: { anonymous: true, username: 'x' } }), {
      user: ANONYMOUS,
      authenticated: false,
      source: 'admin',
    });
  });

  it('trusts an http request Basic user only under httpNodeAuth, and a middleware req.user always', () => {
    const req = { headers: { authorization: basic('ana', 'secret') } };
    assert.deepEqual(identityOf({ req }, { httpNodeAuth: true }), {
      user: 'ana',
      authenticated: true,
      source: 'http',
    });
    const open = identityOf({ req });
    assert.equal(open?.authenticated, false);
    assert.equal(open?.source, 'http');
    assert.equal(open?.claim, 'ana');
    assert.deepEqual(identityOf({ req: { user: { username: 'bo' }, headers: {} } }), {
      user: 'bo',
      authenticated: true,
      source: 'http',
    });
    assert.deepEqual(identityOf({ req: { headers: {} } }), {
      user: ANONYMOUS,
      authenticated: false,
      source: 'http',
    });
  });

  it('trusts Dashboard 2 _client.user only when a user plugin provides it', () => {
    const msg = {
      _client: { socketId: 's1', user: { userId: 'u1', username: 'ana' } },
      approval: { user: 'boss' },
    };
    assert.deepEqual(identityOf(msg, { dashboardUsers: true }), {
      user: 'ana',
      authenticated: true,
      source: 'dashboard',
      claim: 'boss',
    });
    // Without a plugin the browser wrote _client itself.
    assert.deepEqual(identityOf(msg), {
      user: 'boss',
      authenticated: false,
      source: 'dashboard',
      claim: 'boss',
    });
    assert.deepEqual(identityOf({ _client: { socketId: 's1' } }, { dashboardUsers: true }), {
      user: ANONYMOUS,
      authenticated: false,
      source: 'dashboard',
    });
  });

  it('takes an MQTT user from a per-user topic, only for users on the list', () => {
    const opts = { mqttUserTopic: 'plant/approve/{user}', mqttUsers: ['ana'] };
    assert.equal(mqttTopicUser('plant/approve/ana', opts.mqttUserTopic), 'ana');
    assert.equal(mqttTopicUser('plant/approve/ana/x', opts.mqttUserTopic), undefined);
    assert.equal(mqttTopicUser('plant.approve/ana', 'plant.approve/{user}'), 'ana');
    assert.equal(mqttTopicUser('plantXapprove/ana', 'plant.approve/{user}'), undefined);
    assert.deepEqual(identityOf({ topic: 'plant/approve/ana', payload: {} }, opts), {
      user: 'ana',
      authenticated: true,
      source: 'mqtt',
    });
    const other = identityOf({ topic: 'plant/approve/eve', payload: { user: 'ana' } }, opts);
    assert.deepEqual(other, { user: 'ana', authenticated: false, source: 'mqtt', claim: 'ana' });
    assert.equal(identityOf({ topic: 'plant/approve/ana' })?.source, undefined);
  });
});
