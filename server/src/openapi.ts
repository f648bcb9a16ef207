import { type Access, accessOf, permissions } from '@data-uploader/shared';
import type { AnyTRPCRouter } from '@trpc/server';
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** One procedure as the router defines it: its `area.verb` path, how it is called, and its zod input. */
export interface ProcedureEntry {
  path: string;
  type: 'query' | 'mutation';
  input: z.ZodType | undefined;
}

interface ProcedureDef {
  type: 'query' | 'mutation' | 'subscription';
  inputs: unknown[];
}

/** Every query and mutation of a router, read from its definition (tRPC 11 keeps the flat path → procedure map). */
export function proceduresOf(router: AnyTRPCRouter): ProcedureEntry[] {
  const procedures = router._def.procedures as Record<string, { _def: ProcedureDef }>;
  return Object.entries(procedures).flatMap(([path, procedure]) => {
    const { type, inputs } = procedure._def;
    if (type === 'subscription') return [];
    const schemas = inputs.filter((input): input is z.ZodType => input instanceof z.ZodType);
    const input = schemas.reduce<z.ZodType | undefined>(
      (all, one) => (all ? z.intersection(all, one) : one),
      undefined,
    );
    return [{ path, type, input }];
  });
}

/** The JSON Schema of what a client sends (before defaults and transforms); refinements have no JSON form and are left out. */
export function inputJsonSchema(input: z.ZodType): JsonSchema {
  const { $schema: _, ...schema } = z.toJSONSchema(input, { io: 'input', unrepresentable: 'any' });
  return schema;
}

/** Whether the call must carry an input: one whose fields are all optional or defaulted may be left out. */
function inputRequired(input: z.ZodType): boolean {
  return !input.safeParse(undefined).success;
}

const accessDescriptions: Record<Access, string> = {
  public: 'anyone, signed in or not',
  signedIn: 'any signed-in person, even one who still has to change a temporary password',
  viewer: 'a viewer, user or admin of the company',
  user: 'a user or admin of the company (viewers may not)',
  admin: 'an admin of the company',
  operator: 'the instance operator',
};

function whoMayCall(access: Access | undefined): string {
  if (!access) return 'Nobody: this procedure is missing from the permission table, so the server refuses it.';
  const passwordNote = access === 'public' || access === 'signedIn' ? '' : ', after changing a temporary password';
  return `Who may call it: ${accessDescriptions[access]}${passwordNote} (\`${access}\` in shared/src/permissions.ts).`;
}

const errorResponse = { $ref: '#/components/responses/Error' };

function operationOf({ path, type, input }: ProcedureEntry) {
  const access = accessOf(path);
  const schema = input && inputJsonSchema(input);
  const required = input ? inputRequired(input) : false;
  const call =
    type === 'query'
      ? `GET /trpc/${path}${schema ? '?input=<URL-encoded JSON>' : ''}`
      : `POST /trpc/${path}${schema ? ' with a JSON body' : ''}`;
  return {
    operationId: path,
    tags: [path.split('.')[0]],
    summary: path,
    description: `${call}.\n\n${whoMayCall(access)}`,
    'x-access': access ?? 'refused',
    security: access === 'public' ? [] : [{ session: [] }, { apiToken: [] }],
    ...(schema && type === 'query'
      ? {
          parameters: [
            {
              name: 'input',
              in: 'query',
              required,
              description: 'The input as JSON, URL-encoded (`curl -G --data-urlencode input=…`).',
              content: { 'application/json': { schema } },
            },
          ],
        }
      : {}),
    ...(schema && type === 'mutation'
      ? { requestBody: { required, content: { 'application/json': { schema } } } }
      : {}),
    responses: {
      '200': {
        description: 'The answer, in `result.data`.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Result' } } },
      },
      ...(schema ? { '400': errorResponse } : {}),
      ...(access === 'public' ? {} : { '401': errorResponse, '403': errorResponse }),
      default: errorResponse,
    },
  };
}

const components = {
  securitySchemes: {
    session: {
      type: 'apiKey',
      in: 'cookie',
      name: 'du_session',
      description: 'The session cookie `auth.login` sets (what the web app uses; `curl -b jar -c jar`).',
    },
    apiToken: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'du_…',
      description: 'An API token from `tokens.create` (`Authorization: Bearer du_…`), as scripts and the CLI use.',
    },
  },
  schemas: {
    Result: {
      type: 'object',
      properties: { result: { type: 'object', properties: { data: { description: 'What the procedure answers.' } } } },
      required: ['result'],
    },
    Error: {
      type: 'object',
      properties: {
        error: {
          type: 'object',
          properties: {
            message: { type: 'string', description: 'For people; names each bad field on invalid input.' },
            code: { type: 'integer', description: 'The JSON-RPC error number tRPC gives the code.' },
            data: {
              type: 'object',
              properties: {
                code: { type: 'string', description: 'The tRPC error code.', examples: ['BAD_REQUEST', 'FORBIDDEN'] },
                httpStatus: { type: 'integer' },
                path: { type: 'string', description: 'The procedure called.' },
                fieldErrors: {
                  type: 'object',
                  description: 'Invalid input only: messages per field (`files.0.size`).',
                  additionalProperties: { type: 'array', items: { type: 'string' } },
                },
              },
              required: ['code', 'httpStatus'],
            },
          },
          required: ['message', 'data'],
        },
      },
      required: ['error'],
    },
  },
  responses: {
    Error: {
      description:
        'A refused or failed call: 400 invalid input, 401 not signed in, 403 not allowed (or a temporary password ' +
        'to change first), 404 not found (also for another company’s ids), 409 conflict, 412 precondition failed.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
  },
};

const beforePasswordChange = Object.entries(permissions)
  .filter(([, access]) => access === 'public' || access === 'signedIn')
  .map(([path]) => `\`${path}\``)
  .join(', ');

const apiDescription = `tRPC over plain JSON. Changes are \`POST /trpc/<area.verb>\` with the input as the JSON body;
reads are \`GET /trpc/<area.verb>?input=<URL-encoded JSON>\`. Answers come as \`{"result":{"data":…}}\`, errors as
\`{"error":{"message":…,"data":{"code":"FORBIDDEN","httpStatus":403,"fieldErrors":{…}}}}\`.

Sign in with \`auth.login\` (a session cookie) or send an API token from \`tokens.create\` as
\`Authorization: Bearer du_…\`. A person with a temporary password may call only ${beforePasswordChange} until they
change it.
The README's "Try the API with curl" walks through a whole upload.`;

/** The OpenAPI 3.1 document of a tRPC router: one operation per procedure, with its input schema and who may call it. */
export function openApiDocument(router: AnyTRPCRouter) {
  const procedures = proceduresOf(router);
  const paths: Record<string, Record<string, ReturnType<typeof operationOf>>> = {};
  for (const entry of procedures) {
    paths[`/trpc/${entry.path}`] = { [entry.type === 'query' ? 'get' : 'post']: operationOf(entry) };
  }
  const areas = [...new Set(procedures.map(({ path }) => path.split('.')[0] as string))];
  return {
    openapi: '3.1.0',
    info: { title: 'Data Uploader API', version: '1', description: apiDescription },
    tags: areas.map((name) => ({ name })),
    paths,
    components,
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
