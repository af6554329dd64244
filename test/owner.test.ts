/** Who owns the add-on, decided over its tags (src/decide/owner.ts): a table of real tag sets, and the rules' syntax. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideOwner, ownerUpgradeInstruction, parseOwnerTags, withOwnerRemediation } from '../src/decide/owner.js';
import { UsageError } from '../src/errors.js';

const STACK_ID = 'arn:aws:cloudformation:us-west-2:111122223333:stack/demo-addons/5b8c7e10-3a2f-11ef-9d4b-0a1b2c3d4e5f';

describe('decideOwner', () => {
  it.each([
    ['no tags', {}, [], null],
    ['CloudFormation stack tags', { 'aws:cloudformation:stack-name': 'demo-addons', 'aws:cloudformation:stack-id': STACK_ID, 'aws:cloudformation:logical-id': 'VpcCniAddon' }, [], { kind: 'cloudformation', detail: 'stack demo-addons, logical id VpcCniAddon' }],
    ['only the stack id', { 'aws:cloudformation:stack-id': STACK_ID }, [], { kind: 'cloudformation', detail: 'stack demo-addons' }],
    ['eksctl cluster tag', { 'alpha.eksctl.io/cluster-name': 'demo' }, [], { kind: 'eksctl', detail: 'eksctl cluster demo' }],
    ['eksctl old cluster tag', { 'eksctl.cluster.k8s.io/v1alpha1/cluster-name': 'demo' }, [], { kind: 'eksctl', detail: 'eksctl cluster demo' }],
    ['a team tag, no rule', { ManagedBy: 'Terraform' }, [], null],
    ['ManagedBy=Terraform rule', { ManagedBy: 'Terraform' }, [{ key: 'ManagedBy', value: 'terraform' }], { kind: 'terraform', detail: 'tag ManagedBy=Terraform' }],
    ['a key-only rule', { 'owner/iac': 'platform-repo' }, [{ key: 'owner/iac' }], { kind: 'tag', detail: 'tag owner/iac=platform-repo' }],
    ['a rule whose value differs', { ManagedBy: 'Pulumi' }, [{ key: 'ManagedBy', value: 'Terraform' }], null],
    ['the key is case-sensitive', { managedby: 'Terraform' }, [{ key: 'ManagedBy' }], null],
    ['CloudFormation wins over a rule', { 'aws:cloudformation:stack-name': 's', ManagedBy: 'Terraform' }, [{ key: 'ManagedBy' }], { kind: 'cloudformation', detail: 'stack s' }],
  ])('%s', (_name, tags, rules, owner) => {
    expect(decideOwner(tags, rules)).toEqual(owner);
  });

  it('is null for any tags without an owner mark and no rules (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !k.startsWith('aws:cloudformation:') && !k.includes('eksctl')), fc.string()), (tags) => {
        expect(decideOwner(tags, [])).toBeNull();
      }),
    );
  });
});

describe('the owner named in a remediation', () => {
  const owner = { kind: 'cloudformation' as const, detail: 'stack demo-addons, logical id VpcCniAddon' };
  it('names the pin, the steps, one stack update each and the plan output', () => {
    expect(ownerUpgradeInstruction(owner, ['v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3'])).toBe(
      "change the add-on's version in CloudFormation stack demo-addons (logical id VpcCniAddon) to v1.13.4-eksbuild.1, then v1.14.0-eksbuild.3, one stack update each; `vpccni plan --to v1.14.0-eksbuild.3 --output cloudformation` prints them",
    );
  });
  it('replaces "run `vpccni upgrade --to V`" and leaves other remediations alone', () => {
    const findings = [
      { id: 'a', severity: 'error' as const, message: 'm', remediation: 'Before upgrading the cluster, run `vpccni upgrade --to v1.13.4-eksbuild.1` (x).' },
      { id: 'b', severity: 'info' as const, message: 'm', remediation: 'See `vpccni plan --to latest`.' },
    ];
    const out = withOwnerRemediation(findings, owner, ['v1.13.4-eksbuild.1']);
    expect(out[0]!.remediation).toBe("Before upgrading the cluster, change the add-on's version in CloudFormation stack demo-addons (logical id VpcCniAddon) to v1.13.4-eksbuild.1; `vpccni plan --to v1.13.4-eksbuild.1 --output cloudformation` prints them (x).");
    expect(out[1]).toEqual(findings[1]);
  });
});

describe('parseOwnerTags', () => {
  it.each([
    [['ManagedBy=Terraform'], undefined, [{ key: 'ManagedBy', value: 'Terraform' }]],
    [['iac', 'team=net=work'], undefined, [{ key: 'iac' }, { key: 'team', value: 'net=work' }]],
    [[], 'ManagedBy=Terraform, owner', [{ key: 'ManagedBy', value: 'Terraform' }, { key: 'owner' }]],
    [['flag'], 'env', [{ key: 'flag' }]],
    [undefined, '', []],
  ])('%j with VPCCNI_OWNER_TAGS=%j', (flags, env, rules) => {
    expect(parseOwnerTags(flags, env)).toEqual(rules);
  });

  it.each([
    [['=Terraform'], undefined, /--owner-tag "=Terraform" names no tag key/],
    [[], 'ManagedBy=Terraform,,', /VPCCNI_OWNER_TAGS "" names no tag key/],
    [[`${'k'.repeat(129)}=v`], undefined, /longer than an EKS tag can be/],
  ])('refuses %j / %j with one sentence', (flags, env, message) => {
    expect(() => parseOwnerTags(flags, env)).toThrow(UsageError);
    expect(() => parseOwnerTags(flags, env)).toThrow(message);
  });
});
