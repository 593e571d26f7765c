/**
 * JSON Schema (draft-07) of `tcpstate-exporter doctor --format json`. Findings are held
 * to their exact shape; the snapshot figures beside them to the shape of DoctorReport.
 */
import { TCP_STATES } from '../snapshot/model.js';
import { FINDING_IDS, SEVERITIES } from './finding.js';

const count = { type: 'integer', minimum: 0 } as const;
const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;

const stateCounts = {
  type: 'object',
  required: [...TCP_STATES],
  additionalProperties: false,
  properties: Object.fromEntries(TCP_STATES.map((state) => [state, count])),
} as const;

const portStateCounts = {
  type: 'array',
  items: {
    type: 'object',
    required: ['port', 'states'],
    additionalProperties: false,
    properties: {
      port: { oneOf: [port, { const: 'other' }] },
      states: stateCounts,
    },
  },
} as const;

const destination = {
  type: 'object',
  required: ['localAddress', 'remoteAddress', 'remotePort', 'used', 'timeWait', 'holdSeconds'],
  additionalProperties: false,
  properties: {
    localAddress: { type: 'string' },
    remoteAddress: { type: 'string' },
    remotePort: port,
    used: count,
    timeWait: count,
    holdSeconds: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

const fixSteps = {
  type: 'array',
  items: {
    type: 'object',
    required: ['step'],
    additionalProperties: false,
    properties: {
      step: { type: 'string', minLength: 1 },
      lines: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    },
  },
} as const;

const scalar = { anyOf: [{ type: 'number' }, { type: 'string' }] } as const;

const finding = {
  type: 'object',
  required: ['id', 'severity', 'summary', 'evidence', 'explanation', 'fix', 'stopTheBleeding'],
  additionalProperties: false,
  properties: {
    id: { enum: [...FINDING_IDS] },
    severity: { enum: [...SEVERITIES] },
    summary: { type: 'string', minLength: 1 },
    evidence: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        anyOf: [
          scalar,
          { type: 'array', items: scalar },
          { type: 'array', items: { type: 'object', additionalProperties: scalar } },
        ],
      },
    },
    explanation: { type: 'string', minLength: 1 },
    fix: { ...fixSteps, minItems: 1 },
    stopTheBleeding: fixSteps,
  },
} as const;

export const DOCTOR_OUTPUT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'tcpstate-exporter doctor --format json',
  type: 'object',
  required: [
    'verdict',
    'procfsRoot',
    'sampledAt',
    'windowSeconds',
    'states',
    'listeningPorts',
    'listenPorts',
    'remotePorts',
    'ephemeral',
    'sysctl',
    'sockstat',
    'counters',
    'unavailable',
    'skippedChecks',
    'findings',
  ],
  additionalProperties: false,
  properties: {
    verdict: {
      type: 'object',
      required: ['severity', 'summary'],
      additionalProperties: false,
      properties: {
        severity: { enum: ['ok', ...SEVERITIES] },
        summary: { type: 'string', minLength: 1 },
      },
    },
    procfsRoot: { type: 'string' },
    sampledAt: { type: 'string', format: 'date-time' },
    windowSeconds: { type: 'number', minimum: 0 },
    states: {
      type: 'object',
      required: ['ipv4', 'ipv6'],
      additionalProperties: false,
      properties: { ipv4: stateCounts, ipv6: stateCounts },
    },
    listeningPorts: { type: 'array', items: port },
    listenPorts: portStateCounts,
    remotePorts: portStateCounts,
    ephemeral: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: [
            'rangeLow',
            'rangeHigh',
            'usable',
            'usedMax',
            'held',
            'reuse',
            'headroomRatio',
            'destinations',
            'destinationCount',
          ],
          additionalProperties: false,
          properties: {
            rangeLow: port,
            rangeHigh: port,
            usable: count,
            usedMax: count,
            held: count,
            reuse: {
              type: 'object',
              required: ['twReuse', 'twReuseDelayMs', 'timestamps'],
              additionalProperties: false,
              properties: {
                twReuse: { type: 'integer' },
                twReuseDelayMs: { type: 'integer' },
                timestamps: { type: 'integer' },
              },
            },
            headroomRatio: { type: 'number', minimum: 0, maximum: 1 },
            destinations: { type: 'array', items: destination },
            destinationCount: count,
          },
        },
      ],
    },
    sysctl: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['values'],
          additionalProperties: false,
          properties: {
            values: { type: 'object', additionalProperties: { type: 'number' } },
            portRange: {
              type: 'object',
              required: ['low', 'high'],
              additionalProperties: false,
              properties: { low: port, high: port },
            },
            reservedPorts: {
              type: 'array',
              items: { type: 'array', items: port, minItems: 2, maxItems: 2 },
            },
          },
        },
      ],
    },
    sockstat: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['ipv4'],
          additionalProperties: false,
          properties: {
            ipv4: { type: 'object', additionalProperties: { type: 'number' } },
            ipv6: { type: 'object', additionalProperties: { type: 'number' } },
          },
        },
      ],
    },
    counters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'total'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^(Tcp|TcpExt)[A-Za-z0-9]+$' },
          total: { type: 'number' },
          delta: { type: 'number', minimum: 0 },
          perSecond: { type: 'number', minimum: 0 },
        },
      },
    },
    unavailable: {
      type: 'array',
      items: {
        type: 'object',
        required: ['source', 'error'],
        additionalProperties: false,
        properties: { source: { type: 'string' }, error: { type: 'string' } },
      },
    },
    skippedChecks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'reason'],
        additionalProperties: false,
        properties: { id: { enum: [...FINDING_IDS] }, reason: { type: 'string' } },
      },
    },
    findings: { type: 'array', items: finding },
  },
} as const;
