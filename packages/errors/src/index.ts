/** @samtune/errors: the one error model every samtune package and app shares. */
export {
  SamtuneError,
  ERROR_KINDS,
  EXIT_CODE_BY_KIND,
  HTTP_STATUS_BY_KIND,
  errorKind,
  isSamtuneError,
  type ErrorKind,
} from './samtune-error.js';
export { checkSchema, schemaProblems, SchemaValidationError, type SchemaProblem } from './schema.js';
