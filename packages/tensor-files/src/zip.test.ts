import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { referencePath } from './test-utils/fixtures.js';
import { ZipArchive, ZipFormatError, withZip } from './zip.js';
import { buildStoredZip } from './test-utils/zip-write.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a zip whose entries may be deflated and whose records may use the ZIP64 forms. */
function buildZip(files: Array<{ name: string; data: Uint8Array; deflate?: boolean }>, zip64: boolean): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const body = f.deflate ? deflateRawSync(f.data) : Buffer.from(f.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(f.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(f.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const extra = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(f.data.length), 4);
      extra.writeBigUInt64LE(BigInt(body.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(f.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(zip64 ? 0xffffffff : body.length, 20);
    ch.writeUInt32LE(zip64 ? 0xffffffff : f.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt16LE(extra.length, 30);
    ch.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    parts.push(lh, name, body);
    central.push(ch, name, extra);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeBigUInt64LE(BigInt(files.length), 24);
    rec.writeBigUInt64LE(BigInt(files.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : files.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : files.length, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : cd.length, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...parts, cd, ...tail, end]);
}

const payload = new Uint8Array(10_000).map((_, i) => (i * 7) % 251);

describe('ZipArchive', () => {
  it('reads the reference checkpoint directory: 445 entries, stored, data.pkl first', () => {
    withZip(referencePath('tinyvit.pth'), (z) => {
      expect(z.entries.size).toBe(445);
      const names = [...z.entries.keys()];
      expect(names[0]).toBe('tinyvit/data.pkl');
      expect([...z.entries.values()].every((e) => e.method === 0)).toBe(true);
      expect(new TextDecoder().decode(z.read('tinyvit/byteorder'))).toBe('little');
      expect(z.read('tinyvit/data/0').byteLength).toBe(3456);
    });
  });

  for (const zip64 of [false, true]) {
    it(`reads stored and deflate entries${zip64 ? ' through ZIP64 records' : ''}`, () => {
      const path = join(dir, `t${zip64 ? 64 : 32}.zip`);
      writeFileSync(
        path,
        buildZip(
          [
            { name: 'a/stored', data: payload },
            { name: 'a/deflated', data: payload, deflate: true },
          ],
          zip64,
        ),
      );
      withZip(path, (z) => {
        expect(z.entry('a/deflated').method).toBe(8);
        expect(z.entry('a/deflated').compressedSize).toBeLessThan(payload.length);
        expect(z.read('a/stored')).toEqual(payload);
        expect(z.read('a/deflated')).toEqual(payload);
      });
    });
  }

  it('round-trips buildStoredZip and names missing entries', () => {
    const path = join(dir, 'stored.zip');
    writeFileSync(
      path,
      buildStoredZip([
        { name: 'x/one', data: payload },
        { name: 'x/two', data: new Uint8Array([1, 2, 3]) },
      ]),
    );
    const z = ZipArchive.open(path);
    expect(z.read('x/two')).toEqual(new Uint8Array([1, 2, 3]));
    expect(z.read('x/one')).toEqual(payload);
    expect(() => z.read('x/three')).toThrow(/no entry 'x\/three'/);
    z.close();
    expect(() => z.read('x/one')).toThrow(ZipFormatError);
  });

  it('rejects a file that is not a zip', () => {
    const path = join(dir, 'not.zip');
    writeFileSync(path, 'hello, not a zip at all');
    expect(() => ZipArchive.open(path)).toThrow(/no end-of-central-directory record/);
  });
});
