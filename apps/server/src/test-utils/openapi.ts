/**
 * Test-only: validates real replies against the server's OpenAPI document (the reply schema of the
 * route, method and status), with ajv.
 */
import { Ajv, type ValidateFunction } from 'ajv';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
}

export class OpenApiChecker {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly routes: { re: RegExp; template: string; ops: Record<string, Operation> }[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: object) {
    const paths = (doc as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
    this.routes = Object.entries(paths).map(([template, ops]) => ({
      template,
      ops,
      re: new RegExp(`^${template.replace(/[.+?^$()[\]\\]/g, '\\$&').replace(/\{[^}]+\}|\*/g, '.+')}$`),
    }));
  }

  /** A description of what is wrong with a reply, or undefined when it matches the document. */
  check(method: string, url: string, status: number, body: unknown): string | undefined {
    const path = url.split('?')[0] ?? '';
    const route = this.routes.find((r) => r.re.test(path));
    const where = `${method} ${path} ${status}`;
    if (!route) {
      // an unknown path: the document cannot list it, the reply must still be the error shape
      const e = (body as { error?: Record<string, unknown> } | null)?.error;
      const ok = status === 404 && ['name', 'code', 'message'].every((k) => typeof e?.[k] === 'string');
      return ok ? undefined : `${where}: no path in the OpenAPI document`;
    }
    const op = route.ops[method.toLowerCase()];
    if (!op) return status === 405 ? undefined : `${where}: no ${method} operation for ${route.template}`;
    const schema = op.responses?.[String(status)]?.content?.['application/json']?.schema;
    if (!schema) return `${where}: status ${status} is not documented for ${route.template}`;
    const key = `${method} ${route.template} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    return validate(body) ? undefined : `${where}: ${this.ajv.errorsText(validate.errors)}`;
  }
}
