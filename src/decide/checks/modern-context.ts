/** The advisory facts beyond the aws-node container: Pod Identity, the role's permissions, cluster objects. */
import type { ClusterFacts } from '../../domain.js';
import type { AdvisoryContext, FactValue } from '../../upgrade-planner/advisories.js';
import { parseStoredConfigurationValues } from '../config/values.js';
import { awsNodeAssociations, podIdentityAgentRunning } from './pod-identity.js';

function configuredEnv(text: string | null): Record<string, unknown> {
  if (!text || text.trim() === '') return {};
  try {
    return parseStoredConfigurationValues(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The part of the advisory context read from `facts.modern`, the add-on and the DaemonSet's other fields. */
export function modernAdvisoryContext(facts: ClusterFacts): Partial<AdvisoryContext> {
  const extra: Record<string, FactValue> = {};
  for (const c of [...(facts.daemonSet?.containers ?? []), ...(facts.daemonSet?.initContainers ?? [])]) {
    extra[`imagePullPolicy.${c.name}`] = c.imagePullPolicy ?? '';
  }
  for (const c of facts.daemonSet?.containers.find((x) => x.name === 'aws-node')?.env ?? []) {
    extra[`env.${c.name}`] = c.value ?? (c.valueFrom !== undefined ? '' : null);
  }
  for (const [key, value] of Object.entries(facts.modern?.configMapData ?? {})) extra[`configMap.${key}`] = value;
  for (const [key, value] of Object.entries(configuredEnv(facts.addon.configurationValues))) {
    if (typeof value === 'string' || typeof value === 'boolean') extra[`config.${key}`] = String(value);
  }
  for (const [name, present] of Object.entries(facts.modern?.crds ?? {})) extra[`crd.${name}`] = present;
  const associated = awsNodeAssociations(facts).length > 0;
  return {
    managed: facts.addon.managed,
    prometheusAdapterPresent: facts.modern?.prometheusAdapterPresent ?? null,
    eniConfigWithoutSecurityGroups: facts.eniConfigs.some((e) => e.securityGroups.length === 0),
    podIdentityAssociated: facts.modern ? associated : undefined,
    podIdentityAgentRunning: podIdentityAgentRunning(facts),
    roleAllows: facts.modern?.rolePermissions?.allows ?? {},
    facts: extra,
    ...(facts.advisories ? { advisories: facts.advisories } : {}),
  };
}
