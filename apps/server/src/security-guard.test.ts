import { describe, expect, it } from 'vitest';
import { allowedHostNames, isLoopback, originFormPath, RequestGuard } from './security.js';

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
    const g = new RequestGuard({
      hostNames: allowedHostNames('127.0.0.1'),
      token: 'a-long-enough-secret',
      publicPaths: new Set(['/', '/app.js']),
    });
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
    expect(() => g.check('/app.js?v=1', { host: ok.host })).not.toThrow();
    // an allow-list of exact raw paths: every alias of a public path, and every other path, needs the token
    for (const target of ['/%61pp.js', '/app.js/', '/api/health', '/nothing', '/%61pi/health'])
      expect(() => g.check(target, { host: ok.host }), target).toThrow(/^authorization: expected 'Bearer <token>'/);
  });

  it('refuses request targets that are not origin-form (400), before any other check', () => {
    const g = new RequestGuard({ hostNames: allowedHostNames('127.0.0.1'), port: 9000 });
    for (const target of ['http://127.0.0.1:9000/api/health', 'HTTP://x/app.js', '*', '//api/health', 'api/health', ''])
      expect(() => g.check(target, { host: '127.0.0.1:9000' }), target).toThrow(
        /^request target: expected origin-form '\/path\?query', got ".*" \(absolute-form and '\*' targets are refused\)$/,
      );
    expect(originFormPath('/api/images/a%20b.png?x=1')).toBe('/api/images/a%20b.png');
  });
});
