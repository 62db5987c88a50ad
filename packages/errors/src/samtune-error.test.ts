import { describe, expect, it } from 'vitest';
import { errorKind, HTTP_STATUS_BY_KIND, isSamtuneError, SamtuneError, type ErrorKind } from './samtune-error.js';

class WidgetMissingError extends SamtuneError {
  readonly code = 'widget-missing';
  readonly kind: ErrorKind = 'not-found';
}

describe('SamtuneError', () => {
  it('carries the subclass name, a stable code and a kind', () => {
    const e = new WidgetMissingError("findWidget(id): no widget 'w1'");
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('WidgetMissingError');
    expect(e.code).toBe('widget-missing');
    expect(e.kind).toBe('not-found');
    expect(e.toJSON()).toEqual({
      name: 'WidgetMissingError',
      code: 'widget-missing',
      kind: 'not-found',
      message: "findWidget(id): no widget 'w1'",
    });
  });

  it('maps kinds, and anything foreign to internal', () => {
    expect(errorKind(new WidgetMissingError('x'))).toBe('not-found');
    expect(HTTP_STATUS_BY_KIND[errorKind(new WidgetMissingError('x'))]).toBe(404);
    expect(errorKind(new TypeError('x'))).toBe('internal');
    expect(errorKind('boom')).toBe('internal');
    expect(isSamtuneError(Object.assign(new Error('x'), { code: 'c', kind: 'input' }))).toBe(true);
    expect(isSamtuneError(Object.assign(new Error('x'), { code: 'c', kind: 'weird' }))).toBe(false);
  });
});
