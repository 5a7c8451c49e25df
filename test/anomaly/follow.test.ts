import assert from 'node:assert/strict';
import { championFeed, type ChampionFeed } from '../../nodes/anomaly/follow';

describe('anomaly/championFeed (the takt-model config node a takt-anomaly node follows)', () => {
  const feed: ChampionFeed = { current: undefined, error: undefined, on: () => () => undefined };
  const nodes: Record<string, unknown> = {
    ready: { server: feed },
    broken: { configError: 'the registry folder is not writable' },
    starting: {},
  };
  const getNode = (id: string) => nodes[id] ?? null;

  it("returns the config node's server", () => {
    assert.equal(championFeed(getNode, 'ready'), feed);
  });

  it('names the missing node, or why the node has no server', () => {
    assert.throws(() => championFeed(getNode, undefined), { code: 'models.noModelNode' });
    assert.throws(() => championFeed(getNode, 'gone'), /choose a takt-model configuration node/);
    assert.throws(() => championFeed(getNode, 'broken'), {
      code: 'models.badModelNode',
      message: 'model: the registry folder is not writable',
    });
    assert.throws(() => championFeed(getNode, 'starting'), /the takt-model node is not ready/);
  });
});
