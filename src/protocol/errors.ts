// Refusals on the wire: the `{error, message}` body every refusal carries and its schema, shared
// by the server's routes (to send it) and the client (to read it).

/** The JSON body of every refusal. */
export interface ErrorBody {
  error: string;
  message: string;
}

export const errorBodySchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

/** The refusals the group routes can answer with, for their `response` schemas. */
export const refusalSchemas = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  404: errorBodySchema,
  409: errorBodySchema,
  429: errorBodySchema,
} as const;
