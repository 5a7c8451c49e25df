import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, parse, PlantState, type Plant } from '../../nodes/assistant';

const ROOT = join(__dirname, '..', '..', '..');
const plant = JSON.parse(readFileSync(join(ROOT, 'nodes', 'assistant', 'demo-plant.json'), 'utf8')) as Plant;
const now = Date.UTC(2026, 2, 4, 10, 30);
const reply = (text: string, state = new PlantState(), user?: string) =>
  answer(parse(text, { plant, now }), { plant, state, now, user });

describe('assistant answers and proposals', () => {
  it('reads explicit facts, OEE records, samples, SPC alarms and inventory plans into the state', () => {
    const s = new PlantState();
    assert.equal(s.ingest({ payload: 42 }, now), false);
    assert.equal(
      s.ingest(
        {
          assistantState: {
            machines: { CNC1: { health: 0.82, rulHours: 130 } },
            orders: { 'ORD-105': { status: 'in progress', progress: 0.4 } },
          },
        },
        now,
      ),
      true,
    );
    assert.equal(s.ingest({ topic: 'Oven1/oee', payload: { machine: 'Oven1', oee: 0.71 } }, now), true);
    assert.equal(
      s.ingest(
        {
          payload: [
            { topic: 'a/Packer1/State', value: 3, ts: now - 60000 },
            { topic: 'a/Packer1/GoodCount', value: 1200 },
          ],
        },
        now,
      ),
      true,
    );
    assert.equal(
      s.ingest(
        { topic: 'a/Press1/Thickness', spc: { alarms: [{ text: 'rule 1: beyond 3 sigma' }] }, payload: 2.1 },
        now,
      ),
      true,
    );
    assert.equal(s.ingest({ item: 'BRG-6205', plan: { onHand: 40, daysLeft: 3.2 }, payload: [] }, now), true);
    const f = s.snapshot();
    assert.equal(f.machines.CNC1.rulHours, 130);
    assert.equal(f.machines.Oven1.oee, 0.71);
    assert.equal(f.machines.Packer1.state, 'Down');
    assert.equal(f.machines.Packer1.good, 1200);
    assert.deepEqual(
      f.alarms.map((a) => [a.machine, a.text]),
      [['Press1', 'rule 1: beyond 3 sigma']],
    );
    assert.equal(f.items['BRG-6205'].onHand, 40);
    assert.match(reply('how healthy is CNC1', s).text, /health index 0\.82, about 130 h remaining life/);
    assert.match(reply('where is ORD-105', s).text, /ORD-105: in progress, 40\.0 % done/);
    assert.match(reply('how many bearings are left', s).text, /BRG-6205: 40 on hand, about 3 days left/);
    assert.match(reply('any alarms on the press', s).text, /1 alarm\(s\); latest: Press1: rule 1/);
    assert.match(reply('any alarms on the oven', s).text, /No alarms on Oven1/);
    assert.match(reply('why did the packer stop', s).text, /Packer1 is Down; I have no stop reason/);
    s.reset();
    assert.deepEqual(s.snapshot().machines, {});
  });

  it('says plainly when it has no data', () => {
    for (const t of [
      'oee of the press',
      'how healthy is the mill',
      'energy today',
      'stock of steel bar',
      'status of the oven',
    ])
      assert.match(reply(t).text, /don't have live/, t);
  });

  it('a command becomes a proposal for approval with the asker, the slots and a summary', () => {
    const a = reply('schedule maintenance for CNC1 tomorrow at 14:00', undefined, 'carol');
    assert.ok(a.proposal);
    assert.equal(a.proposal.topic, 'CNC1/schedule_maintenance');
    assert.equal(a.proposal.requestedBy, 'carol');
    assert.equal(a.proposal.critical, false);
    assert.deepEqual(a.proposal.payload.when, {
      from: Date.UTC(2026, 2, 5, 14),
      to: Date.UTC(2026, 2, 5, 14),
    });
    assert.match(
      a.proposal.summary,
      /schedule maintenance for CNC1 at 2026-03-05 14:00 UTC \(asked by carol\)/,
    );
    assert.equal(reply('stop the press').proposal?.critical, true);
    assert.equal(reply('rush ORD-103').proposal?.topic, 'ORD-103/rush_order');
  });

  it('no proposal for a missing or ambiguous name, a value outside the limits, a negation, or without a required user', () => {
    assert.equal(reply('please rush the order').refused, 'missing');
    assert.equal(reply('set the offset to 0.1').refused, 'ambiguous');
    assert.equal(reply('set the packer speed to 12').refused, 'out_of_limits');
    assert.match(reply('set the packer speed to 12').text, /0 to 8 packs\/min/);
    assert.equal(reply("don't stop the press").refused, 'negated');
    const r = parse('stop the press', { plant, now });
    assert.equal(answer(r, { plant, state: new PlantState(), now, requireUser: true }).refused, 'no_user');
  });

  it('adds a card with the figure, and a mini chart of its recent values when the state tracked it', () => {
    const s = new PlantState();
    assert.equal(reply('what is the OEE of the press?', s).card, undefined);
    for (const oee of [0.61, 0.64, 0.64, 0.7])
      s.ingest({ topic: 'Press1/oee', payload: { machine: 'Press1', oee } }, now);
    assert.deepEqual(reply('what is the OEE of the press?', s).card, {
      label: 'Press1 OEE',
      value: '70.0 %',
      series: [0.61, 0.64, 0.7],
    });
    s.ingest({ assistantState: { items: { 'BRG-6205': { onHand: 40, unit: 'pcs' } } } }, now);
    assert.deepEqual(reply('how many 6205 bearings do we have?', s).card, {
      label: 'BRG-6205 on hand',
      value: '40 pcs',
    });
    s.ingest({ assistantState: { machines: { CNC1: { health: 0.8 } } } }, now);
    s.ingest({ assistantState: { machines: { CNC1: { health: 0.75 } } } }, now);
    assert.deepEqual(reply('how healthy is CNC1?', s).card?.series, [0.8, 0.75]);
    // a figure over several machines has no single card
    s.ingest({ topic: 'Oven1/oee', payload: { machine: 'Oven1', oee: 0.5 } }, now);
    assert.equal(reply('what is the OEE?', s).card, undefined);
  });
});
