// The floor of `status` at 100 ms per call (bench/kube-client.js): the least a Node.js program using the
// AWS SDK v3 can do with 4 dependent round trips. It loads only the EKS client, takes the credentials and
// region from the environment, and makes 4 DescribeAddon calls one after another; nothing else.
const { EKSClient, DescribeAddonCommand } = require('@aws-sdk/client-eks');

const client = new EKSClient({ region: process.env.AWS_REGION });
(async () => {
  for (let i = 0; i < 4; i++) await client.send(new DescribeAddonCommand({ clusterName: process.argv[2], addonName: 'vpc-cni' }));
})().catch((error) => {
  process.stderr.write(`${error}\n`);
  process.exitCode = 1;
});
