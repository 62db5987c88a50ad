import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { recordingIO } from '../test-utils/io.js';
import { COMMANDS } from './index.js';
import { serveCommand } from './serve.js';

/** `samtune serve` with `argv`: the exit code and the one stderr line. */
async function serve(...argv: string[]): Promise<[number, string[]]> {
  const io = recordingIO();
  return [await runCli(['serve', ...argv], io), io.stderr];
}

describe('samtune serve (flags; the server itself is tested in apps/server)', () => {
  it('is a command with the flag table help', () => {
    expect(COMMANDS).toContain(serveCommand);
    expect(serveCommand.usage).toMatch(/^ {2}--port <n> +port to listen on \(0: any free port\) \(default 8080\)$/m);
    expect(serveCommand.usage).toMatch(/^ {2}--allow-host <name> +another name/m);
    expect(serveCommand.usage).toMatch(/^ {2}--val <labels\.json> +the gate's own validation set/m);
  });

  it('refuses bad flags with one line, exit code 2, before loading the server', async () => {
    const help = "; see 'samtune serve --help'";
    expect(await serve()).toEqual([
      2,
      [
        `samtune serve: --checkpoint / --model: expected exactly one (a checkpoint name or path, or an export directory), got neither${help}`,
      ],
    ]);
    expect((await serve('--checkpoint', 'a', '--model', '.'))[1][0]).toMatch(/got both;/);
    expect(await serve('--checkpoint', 'a', '--port', '70000')).toEqual([
      2,
      [`samtune serve: --port '70000': expected an integer in [0, 65535]${help}`],
    ]);
    expect(await serve('--checkpoint', 'a', '--cache', '-1')).toEqual([
      2,
      [`samtune serve: --cache '-1': expected an integer in [1, 4096]${help}`],
    ]);
    expect(await serve('--checkpoint', 'a', '--int8')).toEqual([
      2,
      [`samtune serve: --int8: expected together with --model <export dir>${help}`],
    ]);
    expect(await serve('--checkpoint', 'a', '--val-images', '.')).toEqual([
      2,
      [`samtune serve: --val-images: expected together with --val <labels.json>${help}`],
    ]);
    expect(await serve('--checkpoint', 'a', '--token', 'short')).toEqual([
      2,
      [`samtune serve: --token: expected 16 to 512 printable characters without spaces, got 5 characters${help}`],
    ]);
    expect((await serve('--checkpoint', 'a', '--host', '0.0.0.0'))[1][0]).toMatch(
      /--host 0.0.0.0: binding to anything but loopback requires --token/,
    );
    expect((await serve('--checkpoint', 'a', '--images', '/no/such/folder'))[1][0]).toMatch(
      /--images '\/no\/such\/folder': expected an existing folder/,
    );
    expect((await serve('--checkpoint', 'a', '--prot', '1'))[1][0]).toMatch(
      /unknown flag --prot \(did you mean --port\?\)/,
    );
  });
});
