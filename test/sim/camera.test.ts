/**
 * The simulator's inspection camera: one shot per finished part on a machine with a camera, surface defects
 * injected like any other fault (with ground truth per part), the camera leaving every other figure of the
 * plant as it was, and the images published as PNG over OPC UA (ByteString) and MQTT (Mosquitto).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { AttributeIds, DataType, OPCUAClient, OPCUACertificateManager } from 'node-opcua';
import sharp from 'sharp';
import { TaktError } from '../../nodes/core/errors';
import { renderShot, shotPng } from '../../nodes/sim/camera';
import { type CameraShot, PlantSimulator } from '../../nodes/sim/engine';
import { DEFAULT_PLANT, parsePlantModel, type PlantModel } from '../../nodes/sim/model';
import { CAMERA_BACKLOG, type CameraImage, SimRunner } from '../../nodes/sim/runner';
import { freePort, waitUntil } from '../helpers/net';
import { requireServer } from '../helpers/servers';

const START = Date.UTC(2026, 10, 26, 6, 0, 0);
const HOUR = 3600000;

function withoutCamera(): PlantModel {
  return {
    ...DEFAULT_PLANT,
    lines: DEFAULT_PLANT.lines.map((l) => ({
      ...l,
      machines: l.machines.map(({ camera: _camera, ...m }) => m),
    })),
  };
}

function shots(sim: PlantSimulator, ms: number): CameraShot[] {
  return sim
    .advance(ms)
    .parts.map((p) => p.shot)
    .filter((s): s is CameraShot => s !== undefined);
}

describe('sim/camera in the engine', () => {
  it('takes one shot per part of the machine with a camera (the default plant: Packer1, a label)', () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 5, startTime: START });
    const r = sim.advance(HOUR);
    const packer = r.parts.filter((p) => p.machine === 'Packer1');
    assert.ok(packer.length > 100);
    assert.ok(packer.every((p) => p.shot !== undefined));
    assert.ok(r.parts.filter((p) => p.machine !== 'Packer1').every((p) => p.shot === undefined));
    assert.deepEqual(
      packer.map((p) => p.shot!.part),
      packer.map((_, i) => i + 1),
    );
    assert.ok(packer.every((p) => p.shot!.product === 'label' && p.shot!.size === 256 && !p.shot!.defect));
    assert.deepEqual(sim.cameras(), [
      {
        machine: 'Packer1',
        topic: 'Acme/Plant1/Machining/Line1/Packer1/Camera',
        camera: { product: 'label', size: 256 },
      },
    ]);
  });

  it('leaves every other figure of the plant as it was without a camera (its own random stream)', () => {
    const a = new PlantSimulator(DEFAULT_PLANT, { seed: 9, startTime: START, faultsPerDay: 20 });
    const b = new PlantSimulator(withoutCamera(), { seed: 9, startTime: START, faultsPerDay: 20 });
    const ra = a.advance(6 * HOUR);
    const rb = b.advance(6 * HOUR);
    assert.deepEqual(
      ra.parts.map(({ shot: _s, ...p }) => p),
      rb.parts,
    );
    assert.deepEqual(ra.faults, rb.faults);
    assert.ok(
      ra.faults.every((f) => f.fault.kind !== 'surfaceDefect'),
      'random faults keep their kinds',
    );
  });

  it("puts surface defects on that share of the parts while 'surfaceDefect' lasts; they are scrap", () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 2, startTime: START });
    assert.ok(shots(sim, HOUR).every((s) => s.defect === null));
    const f = sim.inject('Packer1', 'surfaceDefect', 0.5);
    const r = sim.advance(2 * HOUR);
    const during = r.parts.filter((p) => p.shot);
    const bad = during.filter((p) => p.shot!.defect);
    const share = bad.length / during.length;
    assert.ok(share > 0.4 && share < 0.6, `share ${share}`);
    assert.ok(bad.every((p) => !p.good && p.shot!.defect!.fault === f.id));
    assert.deepEqual(
      new Set(bad.map((p) => p.shot!.defect!.kind)),
      new Set(['scratch', 'dent', 'stain', 'missing']),
    );
    sim.clear('Packer1');
    assert.ok(shots(sim, HOUR).every((s) => s.defect === null));
  });

  it('refuses surface defects on a machine without a camera, naming the ones with one', () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 1, startTime: START });
    assert.throws(
      () => sim.inject('CNC1', 'surfaceDefect', 0.5),
      (e: unknown) => e instanceof TaktError && e.code === 'sim.noCamera' && /Packer1/.test(e.message),
    );
  });

  it('reads a camera from a plant model and names a bad one', () => {
    const raw = JSON.parse(JSON.stringify(DEFAULT_PLANT)) as {
      lines: { machines: { camera?: unknown }[] }[];
    };
    raw.lines[0].machines[0].camera = { product: 'casting' };
    const m = parsePlantModel(raw);
    assert.deepEqual(m.lines[0].machines[0].camera, { product: 'casting', size: 256 });
    raw.lines[0].machines[0].camera = { product: 'bolt' };
    assert.throws(() => parsePlantModel(raw), /lines\[0\]\.machines\[0\]\.camera\.product must be one of/);
    raw.lines[0].machines[0].camera = { product: 'washer', size: 20 };
    assert.throws(() => parsePlantModel(raw), /camera\.size must be >= 64/);
  });

  it('draws the same pixels for the same shot, as a 256x256 PNG with the defect box of the ground truth inside', async () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 3, startTime: START });
    sim.inject('Packer1', 'surfaceDefect', 1);
    const [shot] = shots(sim, 60000);
    assert.ok(shot?.defect);
    assert.deepEqual(renderShot(shot).data, renderShot(shot).data);
    const { png, truth } = await shotPng(shot);
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 256);
    assert.equal(meta.height, 256);
    assert.equal(truth.defect!.kind, shot.defect.kind);
    const d = truth.defect!;
    assert.ok(d.x >= 0 && d.y >= 0 && d.w > 0 && d.h > 0 && d.x + d.w <= 256 && d.y + d.h <= 256);
  });
});

describe('sim/camera published by the runner', function () {
  this.timeout(60000);

  it('emits nothing without the camera option', async () => {
    const runner = new SimRunner(DEFAULT_PLANT, { seed: 4, startTime: START, timeFactor: 60 });
    const seen: CameraImage[] = [];
    runner.on('image', (i) => seen.push(i));
    runner.advance(10 * 60000);
    await runner.cameraIdle();
    assert.equal(seen.length, 0);
  });

  it('sends one PNG per part in part order with its ground truth, over OPC UA as a ByteString', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'takt-sim-camera-'));
    const runner = new SimRunner(DEFAULT_PLANT, {
      seed: 4,
      startTime: START,
      timeFactor: 1, // the clock hardly moves: the parts come from the advances below
      camera: true,
      opcua: { port: await freePort(), pkiDir: join(dir, 'pki') },
    });
    const client = OPCUAClient.create({
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0 },
      clientCertificateManager: new OPCUACertificateManager({
        rootFolder: join(dir, 'pki-client'),
        automaticallyAcceptUnknownCertificate: true,
      }),
    });
    try {
      const seen: CameraImage[] = [];
      runner.on('image', (i) => seen.push(i));
      await runner.start();
      runner.inject('Packer1', 'surfaceDefect', 1);
      const parts = [];
      for (let i = 0; i < 5; i++) {
        parts.push(...runner.advance(60000).parts.filter((p) => p.shot));
        await runner.cameraIdle();
      }
      assert.equal(runner.cameraDropped, 0);
      assert.ok(parts.length >= 10, `${parts.length} parts`);
      // The runner's clock runs too (start()): every part up to the last one advanced here, in order.
      const last = parts[parts.length - 1]!.shot!.part;
      assert.deepEqual(
        seen.map((s) => s.truth.part).filter((n) => n <= last),
        Array.from({ length: last }, (_, i) => i + 1),
      );
      assert.ok(seen.every((s) => s.topic === 'Acme/Plant1/Machining/Line1/Packer1/Camera'));
      assert.ok(parts.every((p) => seen.find((s) => s.truth.part === p.shot!.part)?.truth.defect !== null));

      await client.connect(runner.opcua!.endpointUrl);
      const session = await client.createSession();
      const ids = await Promise.all(
        ['Image', 'Part'].map(async (name) => {
          const t = await session.translateBrowsePath({
            startingNode: 'i=85',
            relativePath: {
              elements: ['Plant1', 'Line1', 'Packer1', 'Camera', name].map((n) => ({
                referenceTypeId: 'i=33',
                isInverse: false,
                includeSubtypes: true,
                targetName: { namespaceIndex: 1, name: n },
              })),
            },
          });
          return t.targets![0]!.targetId;
        }),
      );
      const [img, part] = await session.read(
        ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
      );
      assert.equal(img!.value.dataType, DataType.ByteString);
      // The clock keeps running: the values read are those of some recent part, Image and Part of the same one.
      const truth = JSON.parse(part!.value.value as string) as { part: number };
      const shown = seen.find((s) => s.truth.part === truth.part)!;
      assert.ok(truth.part >= last, `part ${truth.part}`);
      assert.deepEqual(truth, shown.truth);
      assert.deepEqual(new Uint8Array(img!.value.value as Buffer), shown.png);
      assert.equal(img!.sourceTimestamp!.getTime(), shown.truth.ts);
      await session.close();
    } finally {
      await client.disconnect();
      await runner.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops images beyond its backlog when drawing falls behind, counting each one and warning', async () => {
    const runner = new SimRunner(DEFAULT_PLANT, { seed: 4, startTime: START, camera: true });
    const seen: CameraImage[] = [];
    const warnings: Error[] = [];
    runner.on('image', (i) => seen.push(i));
    runner.on('warning', (w) => warnings.push(w));
    const made = runner.advance(20 * 60000).parts.filter((p) => p.shot).length; // ~100 parts at once
    await runner.cameraIdle();
    assert.ok(made > CAMERA_BACKLOG);
    assert.equal(runner.cameraDropped, made - CAMERA_BACKLOG);
    assert.equal(seen.length, CAMERA_BACKLOG);
    assert.equal(warnings.length, runner.cameraDropped);
    assert.match(warnings[0]!.message, /image of part \d+ not drawn, 32 images wait \(1 dropped/);
  });

  describe('with Mosquitto (integration)', () => {
    let url = '';
    before(async function () {
      url = (await requireServer(this, 'Mosquitto', 'MQTT_URL', 'mqtt://127.0.0.1:1883')).url;
    });

    it('publishes the PNG on <camera>/Image and the ground truth on <camera>/Part', async () => {
      const group = `TaktCam${process.pid}${Date.now() % 100000}`;
      const app = await mqtt.connectAsync(url, { protocolVersion: 4 });
      const images: Buffer[] = [];
      const truths: { part: number }[] = [];
      let born = false;
      await app.subscribeAsync(['Acme/Plant1/Machining/Line1/Packer1/Camera/#', `spBv1.0/${group}/NBIRTH/#`]);
      app.on('message', (topic, payload) => {
        if (topic.includes('/NBIRTH/')) born = true;
        else if (topic.endsWith('/Image')) images.push(payload);
        else if (topic.endsWith('/Part')) truths.push(JSON.parse(payload.toString()) as { part: number });
      });
      const runner = new SimRunner(DEFAULT_PLANT, {
        seed: 6,
        startTime: START,
        timeFactor: 60,
        camera: true,
        sparkplug: { url, groupId: group, edgeNodeId: 'Line1' },
      });
      try {
        await runner.start();
        await waitUntil(() => born, 'the edge node born', 10000);
        runner.advance(60000);
        await runner.cameraIdle();
        await waitUntil(() => truths.length >= 5 && images.length >= 5, '5 images over MQTT', 10000);
        const meta = await sharp(images[0]!).metadata();
        assert.equal(meta.format, 'png');
        assert.equal(meta.width, 256);
        assert.deepEqual(truths.map((t) => t.part).slice(0, 5), [1, 2, 3, 4, 5]);
      } finally {
        await runner.stop();
        await app.endAsync();
      }
    });
  });
});
