import { describe, expect, it } from 'vitest';
import { PromptRangeError, validatePrompt } from './prompts.js';

const problem = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PromptRangeError);
    return (e as Error).message;
  }
  return 'no error';
};

describe('validatePrompt (the rule the CLI and the server share)', () => {
  it('accepts points on the border and a box filling the image', () => {
    expect(() =>
      validatePrompt(
        {
          points: [
            [0, 0],
            [800, 534],
          ],
          box: [0, 0, 800, 534],
        },
        800,
        534,
      ),
    ).not.toThrow();
  });

  it('refuses a point outside the image, naming the point', () => {
    expect(
      problem(() =>
        validatePrompt(
          {
            points: [
              [1, 1],
              [-5, -5],
            ],
          },
          800,
          534,
        ),
      ),
    ).toBe('points[1]: expected a point inside the 800x534 image (0 <= x <= 800, 0 <= y <= 534), got [-5, -5]');
  });

  it('refuses a box reaching outside, an empty box and non-finite numbers', () => {
    expect(problem(() => validatePrompt({ box: [0, 0, 1e308, 1e308] }, 800, 534))).toBe(
      'box: expected XYXY inside the 800x534 image with 0 <= x0 < x1 <= 800 and 0 <= y0 < y1 <= 534, got [0, 0, 1e+308, 1e+308]',
    );
    expect(problem(() => validatePrompt({ box: [10, 10, 5, 20] }, 800, 534))).toMatch(/^box: expected XYXY/);
    expect(problem(() => validatePrompt({ points: [[Number.NaN, 1]] }, 800, 534))).toBe(
      'points[0][0]: expected a finite number, got NaN',
    );
    expect(problem(() => validatePrompt({ box: [0, 0, Infinity, 5] }, 800, 534))).toBe(
      'box[2]: expected a finite number, got Infinity',
    );
  });

  it('maps to the caller error', () => {
    class MyError extends Error {}
    expect(() => validatePrompt({ points: [[900, 1]] }, 800, 534, (f, d) => new MyError(`${f}|${d}`))).toThrow(MyError);
  });
});
