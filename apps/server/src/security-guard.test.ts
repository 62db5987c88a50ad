import { describe, expect, it } from 'vitest';
import { allowedHostNames, isLoopback, RequestGuard } from './security.js';

describe('RequestGuard', () => {
  it('knows loopback addresses and the names a loopback bind answers to', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '::', '192.168.1.4', 'example.com'].map(isLoopback)).toEqual([false, false, false, false]);
    expect([...allowedHostNames('127.0.0.1')].sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect([...allowedHostNames('::1', ['Labeler.LAN'])].sort()).toEqual([
      '127.0.0.1',
      '[::1]',
      'labeler.lan',
      'localhost',
    ]);
    expect(allowedHostNames('0.0.0.0').has('127.0.0.1')).toBe(true); // every interface address
  });

  it('refuses every request until the port is known, then checks Host, Origin and the token', () => {
    const g = new RequestGuard({ hostNames: allowedHostNames('127.0.0.1'), token: 'a-long-enough-secret' });
    const ok = { host: '127.0.0.1:9000', authorization: 'Bearer a-long-enough-secret' };
    expect(() => g.check('/api/health', ok)).toThrow(/^host: expected one of 127\.0\.0\.1:\?/);
    g.port = 9000;
    expect(() => g.check('/api/health', ok)).not.toThrow();
    expect(() => g.check('/api/health', { ...ok, host: 'LOCALHOST:9000' })).not.toThrow();
    expect(() => g.check('/api/health', { ...ok, host: '127.0.0.1:9001' })).toThrow(/got "127\.0\.0\.1:9001"$/);
    expect(() => g.check('/api/health', { ...ok, host: undefined })).toThrow(/got ""$/);
    expect(() => g.check('/api/health', { ...ok, origin: 'http://127.0.0.1:9000' })).not.toThrow();
    expect(() => g.check('/api/health', { ...ok, origin: 'null' })).toThrow(/opaque origin/);
    expect(() => g.check('/api/health', { ...ok, authorization: 'Basic x' })).toThrow(/got a different value$/);
    expect(() => g.check('/app.js', { host: ok.host })).not.toThrow(); // static files need no token
  });
});
