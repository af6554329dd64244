/**
 * EKS Pod Identity associations of one sandbox cluster, as the EKS API keeps them
 * (CreatePodIdentityAssociation, ListPodIdentityAssociations, DescribePodIdentityAssociation,
 * DeletePodIdentityAssociation; eks-service-2.json `PodIdentityAssociation`). An association an add-on
 * created through its `podIdentityAssociations` carries the add-on's ARN as `ownerArn` and can only be
 * changed through the add-on.
 * https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
 */
import { randomBytes } from 'node:crypto';
import { EksApiError } from './addon-controller.js';

/** One association as DescribePodIdentityAssociation returns it (timestamps in epoch seconds). */
export interface PodIdentityAssociation {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  associationArn: string;
  associationId: string;
  tags: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  ownerArn?: string;
  disableSessionTags: boolean;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+/;

/** The associations of one cluster. */
export class PodIdentityStore {
  private readonly associations = new Map<string, PodIdentityAssociation>();

  constructor(
    private readonly cluster: { name: string; region: string; accountId: string },
  ) {}

  /** Creates an association; `ownerArn` when an add-on creates it. */
  create(input: { namespace?: unknown; serviceAccount?: unknown; roleArn?: unknown; tags?: unknown; disableSessionTags?: unknown }, ownerArn?: string): PodIdentityAssociation {
    const { namespace, serviceAccount, roleArn } = input;
    if (typeof namespace !== 'string' || namespace === '' || typeof serviceAccount !== 'string' || serviceAccount === '') {
      throw new EksApiError(400, 'InvalidParameterException', 'namespace and serviceAccount are required.', { clusterName: this.cluster.name });
    }
    if (typeof roleArn !== 'string' || !ROLE_ARN.test(roleArn)) {
      throw new EksApiError(400, 'InvalidParameterException', `The role ARN ${String(roleArn)} is not valid.`, { clusterName: this.cluster.name });
    }
    const existing = this.find(namespace, serviceAccount);
    if (existing) {
      throw new EksApiError(
        409,
        'ResourceInUseException',
        `Association already exists: ${existing.associationArn}`,
        { clusterName: this.cluster.name },
      );
    }
    const id = `a-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const now = Date.now() / 1000;
    const association: PodIdentityAssociation = {
      clusterName: this.cluster.name,
      namespace,
      serviceAccount,
      roleArn,
      associationArn: `arn:aws:eks:${this.cluster.region}:${this.cluster.accountId}:podidentityassociation/${this.cluster.name}/${id}`,
      associationId: id,
      tags: (input.tags && typeof input.tags === 'object' ? input.tags : {}) as Record<string, string>,
      createdAt: now,
      modifiedAt: now,
      ...(ownerArn ? { ownerArn } : {}),
      disableSessionTags: input.disableSessionTags === true,
    };
    this.associations.set(id, association);
    return structuredClone(association);
  }

  find(namespace: string, serviceAccount: string): PodIdentityAssociation | undefined {
    return [...this.associations.values()].find((a) => a.namespace === namespace && a.serviceAccount === serviceAccount);
  }

  /** The association, or ResourceNotFoundException. */
  get(id: string): PodIdentityAssociation {
    const association = this.associations.get(id);
    if (!association) {
      throw new EksApiError(404, 'ResourceNotFoundException', `No Pod Identity Association found with id: ${id}`, { clusterName: this.cluster.name });
    }
    return structuredClone(association);
  }

  /** Deletes an association; one an add-on owns only when `asOwner` is that add-on's ARN. */
  delete(id: string, asOwner?: string): PodIdentityAssociation {
    const association = this.get(id);
    if (association.ownerArn && association.ownerArn !== asOwner) {
      throw new EksApiError(
        400,
        'InvalidRequestException',
        `Pod Identity Association ${id} is owned by ${association.ownerArn}; change it through the add-on's podIdentityAssociations.`,
        { clusterName: this.cluster.name },
      );
    }
    this.associations.delete(id);
    return association;
  }

  /** Every association, optionally filtered by namespace and service account, in creation order. */
  list(filter: { namespace?: string | null; serviceAccount?: string | null } = {}): PodIdentityAssociation[] {
    return [...this.associations.values()]
      .filter((a) => (!filter.namespace || a.namespace === filter.namespace) && (!filter.serviceAccount || a.serviceAccount === filter.serviceAccount))
      .map((a) => structuredClone(a));
  }

  /** The associations `ownerArn` owns. */
  ownedBy(ownerArn: string): PodIdentityAssociation[] {
    return this.list().filter((a) => a.ownerArn === ownerArn);
  }
}
