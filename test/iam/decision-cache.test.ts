/**
 * The IAM authority's decision cache: posts to many connections share one decision only where the
 * role cannot tell connection ids apart; a role that names particular connections is evaluated
 * per connection, so the cache never widens a grant.
 */
import { describe, expect, it } from 'vitest';
import type { FunctionTable, PolicyStatement, ResolvedFunction } from '../../local/function-table.js';
import { credentialsFor, type IamDecision, IamAuthority } from '../../local/iam-gate.js';

const SCOPE = { region: 'us-east-1', account: '000000000000' };
const API = 'arn:aws:execute-api:us-east-1:000000000000:localwsapi/dev';
const post = (id: string) => ({ action: 'execute-api:ManageConnections', resource: `${API}/POST/@connections/${id}` });

function fn(name: 'tasks' | 'wsMessage', statements: PolicyStatement[]): ResolvedFunction {
  return {
    name,
    functionName: `chat-${name}`,
    roleName: `${name}Role`,
    roleArn: `arn:aws:iam::000000000000:role/${name}Role`,
    handler: 'index.handler',
    runtime: 'nodejs24.x',
    timeoutSeconds: 10,
    memoryMb: 256,
    environment: {},
    policies: [{ name: `${name}Policy`, statements }],
    eventSources: [],
  };
}

function authority(...fns: ResolvedFunction[]) {
  const decisions: IamDecision[] = [];
  const table = Object.fromEntries(fns.map((f) => [f.name, f])) as unknown as FunctionTable;
  return { decisions, authority: new IamAuthority(table, SCOPE, { record: (d) => decisions.push(d), decisions: () => decisions }) };
}

describe('IAM decision cache for @connections', () => {
  it('answers every connection of a role granted @connections/* (each decision names its own resource)', async () => {
    const tasks = fn('tasks', [
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/chat-Connections' },
      { Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: `${API}/POST/@connections/*` },
    ]);
    const { authority: iam, decisions } = authority(tasks);
    const key = credentialsFor(tasks).accessKeyId;
    for (const id of ['a1=', 'b2=', 'c3=']) expect((await iam.authorize(key, post(id))).allowed).toBe(true);
    expect(decisions.map((d) => d.resource)).toEqual(['a1=', 'b2=', 'c3='].map((id) => post(id).resource));
    expect((await iam.authorize(key, { action: 'execute-api:ManageConnections', resource: `${API}/DELETE/@connections/a1=` })).allowed).toBe(false);
  });

  it('evaluates each connection on its own when the role names particular connections', async () => {
    const narrow = fn('wsMessage', [{ Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: `${API}/POST/@connections/only=` }]);
    const { authority: iam } = authority(narrow);
    const key = credentialsFor(narrow).accessKeyId;
    expect((await iam.authorize(key, post('only='))).allowed).toBe(true);
    expect((await iam.authorize(key, post('other='))).allowed).toBe(false);
    expect((await iam.authorize(key, post('only='))).allowed).toBe(true);
  });

  it('evaluates each connection on its own when a pattern ends in part of an id', async () => {
    const suffix = fn('wsMessage', [{ Effect: 'Allow', Action: 'execute-api:*', Resource: `${API}/POST/@connections/*A=` }]);
    const { authority: iam } = authority(suffix);
    const key = credentialsFor(suffix).accessKeyId;
    expect((await iam.authorize(key, post('xyzA='))).allowed).toBe(true);
    expect((await iam.authorize(key, post('xyzB='))).allowed).toBe(false);
  });
});
