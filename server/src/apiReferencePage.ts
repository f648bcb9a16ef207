import { createHash } from 'node:crypto';
import type { JsonSchema, OpenApiDocument } from './openapi.ts';

// Rendered on the server from the OpenAPI document: readable without JavaScript, without a CDN, and without a
// third-party script running on the app's origin next to the session cookie.

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** Inline `code` spans of the document's descriptions, escaped. */
const prose = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

function typeOf(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as JsonSchema[]).map(typeOf).join(' or ');
  if (schema.type === 'array') return `array of ${typeOf((schema.items as JsonSchema | undefined) ?? {})}`;
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : String(schema.type ?? 'any');
  return schema.format ? `${type} (${schema.format})` : type;
}

function limitsOf(schema: JsonSchema): string[] {
  const safe = (n: unknown) => (typeof n === 'number' && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined);
  const range = (low: unknown, high: unknown, unit: string) => {
    const [from, to] = [safe(low), safe(high)];
    if (from === undefined) return to === undefined ? [] : [`at most ${to}${unit}`];
    return [to === undefined ? `at least ${from}${unit}` : `${from}–${to}${unit}`];
  };
  return [
    ...range(schema.minLength, schema.maxLength, ' characters'),
    ...range(schema.minimum, schema.maximum, ''),
    ...(typeof schema.exclusiveMinimum === 'number' ? [`more than ${schema.exclusiveMinimum}`] : []),
    ...range(schema.minItems, schema.maxItems, ' items'),
    ...(schema.default === undefined ? [] : [`default ${JSON.stringify(schema.default)}`]),
    ...(Array.isArray(schema.anyOf) ? (schema.anyOf as JsonSchema[]).flatMap(limitsOf) : []),
  ];
}

/** One table row per field, nested objects and arrays of objects flattened as `files[].size`. */
function fieldRows(schema: JsonSchema, prefix = ''): string[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).flatMap(([name, field]) => {
    const row = `<tr><td><code>${escapeHtml(prefix + name)}</code></td><td>${escapeHtml(typeOf(field))}</td><td>${
      required.has(name) ? 'required' : 'optional'
    }</td><td>${escapeHtml(limitsOf(field).join(', '))}</td></tr>`;
    const items = field.items as JsonSchema | undefined;
    if (field.type === 'object') return [row, ...fieldRows(field, `${prefix}${name}.`)];
    if (items?.type === 'object') return [row, ...fieldRows(items, `${prefix}${name}[].`)];
    return [row];
  });
}

interface Operation {
  operationId: string;
  description: string;
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
  parameters?: Array<{ content: { 'application/json': { schema: JsonSchema } } }>;
}

function procedureSection(method: string, path: string, operation: Operation): string {
  const input =
    operation.requestBody?.content['application/json'].schema ??
    operation.parameters?.[0]?.content['application/json'].schema;
  const fields = input ? fieldRows(input) : [];
  const inputPart = input
    ? `${fields.length ? `<table><tr><th>field</th><th>type</th><th></th><th>limits</th></tr>${fields.join('')}</table>` : ''}
<details><summary>JSON Schema of the input</summary><pre>${escapeHtml(JSON.stringify(input, null, 2))}</pre></details>`
    : '<p>No input.</p>';
  return `<section id="${escapeHtml(operation.operationId)}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
${operation.description
  .split('\n\n')
  .map((paragraph) => `<p>${prose(paragraph)}</p>`)
  .join('\n')}
${inputPart}
</section>`;
}

const style = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f5f5f5;padding:.5rem;overflow:auto}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
.method{font-size:12px;padding:.1rem .4rem;border-radius:3px;color:#fff}.get{background:#2a7}.post{background:#27c}
section{border-top:1px solid #eee;padding-top:.5rem}nav a{margin-right:.6rem}`;

/** The page's one inline style block, as the Content-Security-Policy names it (`sha256-…`). */
export const apiReferenceStyleHash = `sha256-${createHash('sha256').update(style).digest('base64')}`;

/** The API reference at `/api/docs`: the protocol, then every procedure grouped by area with its input fields. */
export function apiReferencePage(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation: operation as Operation })),
  );
  const areas = document.tags.map(({ name }) => {
    const inArea = operations.filter(({ operation }) => operation.operationId.startsWith(`${name}.`));
    const links = inArea.map(({ operation: { operationId } }) => `<a href="#${operationId}">${operationId}</a>`);
    return {
      nav: `<p><strong>${escapeHtml(name)}</strong>: ${links.join(' ')}</p>`,
      body: `<h2 id="area-${escapeHtml(name)}">${escapeHtml(name)}</h2>\n${inArea
        .map(({ path, method, operation }) => procedureSection(method, path, operation))
        .join('\n')}`,
    };
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(document.info.title)}</title><style>${style}</style></head>
<body>
<h1>${escapeHtml(document.info.title)}</h1>
${document.info.description
  .split('\n\n')
  .map((paragraph) => `<p>${prose(paragraph)}</p>`)
  .join('\n')}
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${escapeHtml(document.openapi)}).</p>
<nav>${areas.map(({ nav }) => nav).join('\n')}</nav>
${areas.map(({ body }) => body).join('\n')}
</body></html>
`;
}
