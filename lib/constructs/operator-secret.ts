// InviteSyncStack --> OperatorSecret --> Secrets Manager secret whose value the operator sets after deploy
import { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface OperatorSecretProps {
  /** shown in the console: say what value the operator must put in */
  readonly description: string;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A secret created empty. A generated random value would be useless here (a Losant token is issued
 * by Losant, a webhook key is shared with the HR system), so the stack creates no version at all and
 * the operator sets the value after the first deploy:
 * `aws secretsmanager put-secret-value --secret-id <arn from the stack outputs> --secret-string …`.
 * Until then the function fails to read it and says so, instead of running with a value that cannot work.
 */
export class OperatorSecret extends Construct {
  readonly secret: secretsmanager.Secret;
  /** the CloudFormation resource: where acknowledgements for this secret belong */
  readonly cfnSecret: secretsmanager.CfnSecret;

  constructor(scope: Construct, id: string, props: OperatorSecretProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: props.description,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    // The L2 always adds GenerateSecretString when no value is given; CloudFormation creates an empty
    // secret when both GenerateSecretString and SecretString are absent.
    this.cfnSecret = this.secret.node.defaultChild as secretsmanager.CfnSecret;
    this.cfnSecret.addPropertyDeletionOverride('GenerateSecretString');
  }
}
