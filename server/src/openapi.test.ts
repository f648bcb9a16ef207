import { accessOf, createProjectInput, permissions } from '@data-uploader/shared';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiReferencePage } from './apiReferencePage.ts';
import { inputJsonSchema, openApiDocument, proceduresOf } from './openapi.ts';
import { appRouter } from './router.ts';
import { publicProcedure, router } from './trpc.ts';

const document = openApiDocument(appRouter);
const procedures = proceduresOf(appRouter);

type Operation = {
  operationId: string;
  description: string;
  security: unknown[];
  'x-access': string;
  parameters?: Array<{ name: string; in: string; required: boolean; content: Record<string, { schema: unknown }> }>;
  requestBody?: { required: boolean; content: Record<string, { schema: unknown }> };
};

function operation(path: string): { method: string; operation: Operation } {
  const methods = (document.paths as Record<string, Record<string, Operation>>)[`/trpc/${path}`] ?? {};
  const [entry] = Object.entries(methods);
  if (!entry) throw new Error(`${path} is not in the document`);
  return { method: entry[0], operation: entry[1] };
}

describe('openApiDocument', () => {
  it('has one operation per procedure of the router, and nothing else', () => {
    const routerPaths = Object.keys(appRouter._def.procedures).sort();
    expect(procedures.map(({ path }) => path).sort()).toEqual(routerPaths);
    expect(Object.keys(document.paths).sort()).toEqual(routerPaths.map((path) => `/trpc/${path}`));
  });

  it('leaves no procedure out of the permission table, and the table names no procedure that does not exist', () => {
    expect(procedures.filter(({ path }) => !accessOf(path)).map(({ path }) => path)).toEqual([]);
    expect(Object.keys(permissions).sort()).toEqual(procedures.map(({ path }) => path).sort());
  });

  it('describes queries as GET with a JSON input parameter and mutations as POST with a JSON body', () => {
    for (const { path, type, input } of procedures) {
      const { method, operation: op } = operation(path);
      expect(method, path).toBe(type === 'query' ? 'get' : 'post');
      const schema = input && inputJsonSchema(input);
      if (type === 'query') {
        expect(op.requestBody, path).toBeUndefined();
        const parameter = op.parameters?.[0];
        if (schema) expect(parameter, path).toMatchObject({ name: 'input', in: 'query' });
        expect(parameter?.content['application/json']?.schema, path).toEqual(schema);
      } else {
        expect(op.parameters, path).toBeUndefined();
        expect(op.requestBody?.content['application/json']?.schema, path).toEqual(schema);
      }
    }
  });

  it('gives each procedure the input schema of its zod input, as a client sends it', () => {
    const create = operation('projects.create').operation.requestBody;
    expect(create?.required).toBe(true);
    expect(create?.content['application/json']?.schema).toEqual(inputJsonSchema(createProjectInput));
    expect(create?.content['application/json']?.schema).toMatchObject({
      type: 'object',
      required: ['name', 'bucket'],
      properties: { region: { type: 'string', default: 'us-east-1' } },
    });
    const plan = operation('uploads.plan').operation.requestBody?.content['application/json']?.schema;
    expect(plan).toMatchObject({ properties: { files: { type: 'array', maxItems: 5000 } } });
    expect(JSON.stringify(plan)).not.toContain('$schema');
  });

  it('marks an input that may be left out as not required (projects.list has defaults for everything)', () => {
    expect(operation('projects.list').operation.parameters?.[0]?.required).toBe(false);
    expect(operation('projects.get').operation.parameters?.[0]?.required).toBe(true);
    expect(operation('auth.me').operation.parameters).toBeUndefined();
    expect(operation('auth.logout').operation.requestBody).toBeUndefined();
  });

  it('names who may call each procedure and which credentials it takes', () => {
    for (const { path } of procedures) {
      const { operation: op } = operation(path);
      const access = accessOf(path);
      expect(op['x-access'], path).toBe(access);
      expect(op.description, path).toContain(`\`${access}\``);
      expect(op.security, path).toEqual(access === 'public' ? [] : [{ session: [] }, { apiToken: [] }]);
    }
    expect(document.components.securitySchemes).toMatchObject({
      session: { type: 'apiKey', in: 'cookie', name: 'du_session' },
      apiToken: { type: 'http', scheme: 'bearer' },
    });
  });

  it('documents the error shape the server answers', () => {
    expect(document.components.schemas.Error).toMatchObject({
      properties: { error: { properties: { data: { properties: { fieldErrors: { type: 'object' } } } } } },
    });
    expect(document.openapi).toBe('3.1.0');
  });

  it('says that a procedure missing from the permission table is refused', () => {
    const stray = router({
      stray: router({ hello: publicProcedure.input(z.object({ n: z.number() })).query(() => 1) }),
    });
    const op = openApiDocument(stray).paths['/trpc/stray.hello']?.get;
    expect(op?.['x-access']).toBe('refused');
    expect(op?.description).toMatch(/missing from the permission table/);
  });
});

describe('apiReferencePage', () => {
  const page = apiReferencePage(document);

  it('lists every procedure with its method and path', () => {
    for (const { path, type } of procedures) {
      expect(page).toContain(`id="${path}"`);
      expect(page).toContain(`${type === 'query' ? 'GET' : 'POST'}</span> <code>/trpc/${path}</code>`);
    }
  });

  it('shows input fields, nested ones flattened, and escapes what it quotes', () => {
    expect(page).toContain('<code>files[].relativePath</code>');
    expect(page).toContain('<code>sessionId</code>');
    expect(page).toContain('<code>GET /trpc/&lt;area.verb&gt;?input=&lt;URL-encoded JSON&gt;</code>');
  });
});
