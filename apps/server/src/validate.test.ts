import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from './errors.js';
import { checkPromptRange, parseLabelsRequest, parsePredictRequest } from './validate.js';

/** The message of the InvalidFieldError thrown by `fn` (fails if it throws anything else). */
function fieldError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidFieldError);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidFieldError, nothing was thrown');
}

/** A well-formed embedding id (16 hex digits). */
const ID = '0123456789abcdef';

describe('parsePredictRequest', () => {
  it('splits [x, y, label] points and keeps the box and multimask', () => {
    expect(
      parsePredictRequest({
        id: ID,
        points: [
          [1, 2, 1],
          [3.5, 4, 0],
        ],
        box: [0, 0, 5, 6],
        multimask: true,
      }),
    ).toEqual({
      id: ID,
      points: [
        [1, 2],
        [3.5, 4],
      ],
      labels: [1, 0],
      box: [0, 0, 5, 6],
      multimask: true,
    });
    expect(parsePredictRequest({ id: ID, box: [0, 0, 5, 6], points: null })).toEqual({
      id: ID,
      points: [],
      labels: [],
      box: [0, 0, 5, 6],
    });
  });

  it('names the field and the value that is wrong', () => {
    expect(fieldError(() => parsePredictRequest({ points: [[1, 2, 1]] }))).toBe(
      'id: expected a non-empty string, got undefined',
    );
    expect(fieldError(() => parsePredictRequest({ id: 'x'.repeat(5000), box: [0, 0, 1, 1] }))).toBe(
      'id: expected 16 hex digits (an id from POST /api/embed), got a string of 5000 characters',
    );
    expect(fieldError(() => parsePredictRequest({ id: ID }))).toBe(
      'points: no prompt: expected at least one point or a box',
    );
    expect(fieldError(() => parsePredictRequest({ id: ID, points: [[1, 2, 2]] }))).toBe(
      'points[0][2]: expected label 1 (foreground) or 0 (background), got 2',
    );
    expect(fieldError(() => parsePredictRequest({ id: ID, points: [[1, 2]] }))).toBe(
      'points[0]: expected [x, y, label], got [1,2]',
    );
    expect(fieldError(() => parsePredictRequest({ id: ID, points: [[1, 'x', 1]] }))).toBe(
      'points[0][1]: expected a finite number, got "x"',
    );
    expect(fieldError(() => parsePredictRequest({ id: ID, box: [0, 0, 1] }))).toBe(
      'box: expected [x0, y0, x1, y1] (XYXY), got [0,0,1]',
    );
    expect(fieldError(() => parsePredictRequest({ id: ID, box: [0, 0, 1, 1], multimask: 'yes' }))).toBe(
      'multimask: expected true or false, got "yes"',
    );
  });
});

describe('checkPromptRange', () => {
  const req = (box?: [number, number, number, number], points: [number, number][] = []) => ({
    id: ID,
    points,
    labels: points.map(() => 1),
    ...(box ? { box } : {}),
  });
  it('accepts prompts inside (H,W) and refuses those outside or inverted boxes', () => {
    expect(() => checkPromptRange(req([0, 0, 800, 534], [[800, 534]]), 800, 534)).not.toThrow();
    expect(fieldError(() => checkPromptRange(req([160, 133, 900, 480]), 800, 534))).toBe(
      'box: expected XYXY inside the 800x534 image with 0 <= x0 < x1 <= 800 and 0 <= y0 < y1 <= 534, got [160, 133, 900, 480]',
    );
    expect(fieldError(() => checkPromptRange(req([10, 10, 5, 20]), 800, 534))).toMatch(
      /^box: .* got \[10, 10, 5, 20\]$/,
    );
    expect(
      fieldError(() =>
        checkPromptRange(
          req(undefined, [
            [1, 1],
            [-1, 3],
          ]),
          800,
          534,
        ),
      ),
    ).toBe('points[1]: expected a point inside the 800x534 image (0 <= x <= 800, 0 <= y <= 534), got [-1, 3]');
  });
});

describe('parseLabelsRequest', () => {
  it('checks the category and the RLE of every annotation', () => {
    const seg = { size: [2, 2], counts: [1, 2, 1] };
    expect(
      parseLabelsRequest({ image: 'a.jpg', annotations: [{ category: ' leaf ', segmentation: seg, score: 0.5 }] }),
    ).toEqual({
      image: 'a.jpg',
      annotations: [{ category: 'leaf', segmentation: seg, score: 0.5 }],
    });
    expect(
      fieldError(() => parseLabelsRequest({ image: 'a.jpg', annotations: [{ category: '', segmentation: seg }] })),
    ).toBe('annotations[0].category: expected a non-empty string, got ""');
    expect(
      fieldError(() =>
        parseLabelsRequest({
          image: 'a.jpg',
          annotations: [{ category: 'x', segmentation: { size: [2, 2], counts: [1, 2] } }],
        }),
      ),
    ).toBe('annotations[0].segmentation.counts: expected counts to sum to h*w = 2*2 = 4, got 3');
    expect(
      fieldError(() => parseLabelsRequest({ image: 'a.jpg', annotations: [{ category: 'x', segmentation: 'abc' }] })),
    ).toBe('annotations[0].segmentation: expected a COCO RLE {size: [H, W], counts: [...]}, got "abc"');
    expect(fieldError(() => parseLabelsRequest({ image: 'a.jpg' }))).toBe(
      'annotations: expected an array of {category, segmentation}, got undefined',
    );
  });
});
