import { Type } from 'typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { UsageError } from './command.js';
import { closest, defineCommand, Flag, flagHelp, parseFlagTable } from './flags.js';

const TABLE = Type.Object({
  out: Flag.text('where to write', { placeholder: '<file>' }),
  n: Flag.int('how many', 1, { default: 3 }),
  x: Type.Optional(Flag.num('a threshold', 'a number in [0, 1]', { minimum: 0, maximum: 1 })),
  mode: Flag.oneOf(['box', 'point'], 'prompt kind', { default: 'box' }),
  ops: Type.Optional(Flag.list(['MatMul', 'Gemm'], 'op types')),
  point: Flag.points('a point'),
  box: Type.Optional(Flag.box('a box')),
  tag: Flag.texts('a tag (repeatable)'),
  json: Flag.bool('JSON output'),
});
const parse = (argv: string[]) => parseFlagTable(argv, TABLE).flags;

describe('flag tables', () => {
  it('give the parsed type, the defaults and the converted values', () => {
    const f = parse(['--out', 'a.png', '--point', '400,293.7,1', '--point=1,2,0', '--box', '160, 133.5, 560, 480.6']);
    expectTypeOf(f.n).toEqualTypeOf<number>();
    expectTypeOf(f.x).toEqualTypeOf<number | undefined>();
    expectTypeOf(f.mode).toEqualTypeOf<'box' | 'point'>();
    expectTypeOf(f.json).toEqualTypeOf<boolean>();
    expect(f).toEqual({
      out: 'a.png',
      n: 3,
      mode: 'box',
      point: [
        [400, 293.7, 1],
        [1, 2, 0],
      ],
      box: [160, 133.5, 560, 480.6],
      tag: [],
      json: false,
    });
    expect(
      parse([
        '--out',
        'o',
        '--n',
        '7',
        '--x=0.5',
        '--mode',
        'point',
        '--ops',
        'Gemm,MatMul',
        '--tag',
        'a',
        '--tag',
        'b',
        '--json',
      ]),
    ).toMatchObject({
      n: 7,
      x: 0.5,
      mode: 'point',
      ops: ['Gemm', 'MatMul'],
      tag: ['a', 'b'],
      json: true,
    });
  });

  it('name the flag, what was expected and what was given', () => {
    const bad = (argv: string[], message: string) =>
      expect(() => parse(['--out', 'o', ...argv])).toThrow(new UsageError(message));
    bad(['--n', '0'], "--n '0': expected an integer >= 1");
    bad(['--n', '2.5'], "--n '2.5': expected an integer >= 1");
    bad(['--n', 'many'], "--n 'many': expected an integer >= 1");
    bad(['--x', '2'], "--x '2': expected a number in [0, 1]");
    bad(['--mode', 'lasso'], "--mode 'lasso': expected box or point");
    bad(['--ops', 'MatMul,Relu'], "--ops 'MatMul,Relu': expected a comma-separated list of MatMul or Gemm");
    bad(['--point', '1,2'], "--point '1,2': expected x,y,label with label 1 (foreground) or 0 (background)");
    bad(['--point', '1,2,5'], "--point '1,2,5': expected x,y,label with label 1 (foreground) or 0 (background)");
    bad(['--box', '5,5,1,9'], "--box '5,5,1,9': needs x0 < x1 and y0 < y1");
    bad(['--n', '1', '--n', '2'], '--n given 2 times, expected once');
    bad(['--json=yes'], '--json takes no value');
    bad(['--otu', 'x'], 'unknown flag --otu (did you mean --out?)');
    bad(['stray'], "unexpected argument 'stray'");
    bad(['--n'], '--n needs a value');
    expect(() => parse([])).toThrow(new UsageError('missing required flag --out'));
  });

  it('collect dotted keys in order when the command takes them', () => {
    const p = parseFlagTable(['--out', 'o', '--optimizer.lr', '1e-4', '--training.seed=-1'], TABLE, true);
    expect(p.dotted).toEqual([
      ['optimizer.lr', '1e-4'],
      ['training.seed', '-1'],
    ]);
    expect(() => parse(['--out', 'o', '--optimizer.lr', '1'])).toThrow(/unknown flag --optimizer.lr/);
  });

  it('write the --help lines, and a command built from a table uses them', () => {
    const lines = flagHelp(TABLE);
    expect(lines[0]).toMatch(/^ {2}--out <file> +where to write$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}--n <n> +how many \(default 3\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}--mode box\|point +prompt kind \(default box\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}--json +JSON output$/));
    const cmd = defineCommand({
      path: ['x'],
      summary: 's',
      synopsis: 'usage: samtune x',
      flags: TABLE,
      run: async (f) => f.n,
    });
    expect(cmd.usage).toBe(['usage: samtune x', '', ...lines].join('\n'));
    expect(() => cmd.check?.(['--out', 'o', '--n', '-2'])).toThrow("--n '-2': expected an integer >= 1");
  });

  it('suggest the closest name for a typo', () => {
    expect(closest('trian', ['train', 'eval'])).toBe('train');
    expect(closest('zzz', ['train', 'eval'])).toBeUndefined();
  });
});
