/** A kubeconfig connection for client tests: nothing set but what the test names (the product's own builder). */
export { connectionTo } from '../../src/gateways/kube-connection.js';
