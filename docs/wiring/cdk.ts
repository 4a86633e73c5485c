// Wiring example (AWS CDK v2, TypeScript): a pipeline that uses the codepipeline-hooks stack, deployed with SAM
// (`make deploy`). The Test stage runs the post-deploy test runner (Lambda Invoke), the Bake stage waits for the
// auto-approver (Manual approval on its topic). The failure notifier needs no wiring: its rule already matches this
// pipeline if the name matches the stack's PipelineNamePattern. The source stage stands in for your own.
import { App, CfnOutput, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

// samconfig.toml's stack_name: the hooks stack exports <stack>-<output>.
const HOOKS_STACK = 'codepipeline-hooks';
const hooksExport = (output: string): string => Fn.importValue(`${HOOKS_STACK}-${output}`);

export class ShopPipelineStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Same account as the hooks stack: grants go into this stack's roles.
    const runner = lambda.Function.fromFunctionAttributes(this, 'PostDeployTestRunner', {
      functionArn: hooksExport('PostDeployTestRunnerFunctionArn'),
      sameEnvironment: true,
    });
    const autoApproverTopic = sns.Topic.fromTopicArn(this, 'AutoApproverTopic', hooksExport('AutoApproverTopicArn'));

    // CDK gives every action a role of its own, and the approval action publishes with it. Naming that role lets the
    // hooks stack's PipelineRoleArns name it too (the output below): only the roles listed there may publish to the
    // gate's topic and use its KMS key.
    const gateNotifier = new iam.Role(this, 'GateNotifierRole', { assumedBy: new iam.AccountRootPrincipal() });

    const sourceOutput = new codepipeline.Artifact('SourceOutput');
    const sourceBucket = s3.Bucket.fromBucketName(this, 'SourceBucket', 'shop-web-source');

    new codepipeline.Pipeline(this, 'Pipeline', {
      // The failure notifier's rule and the hooks' IAM permissions cover pipelines whose name matches the hooks
      // stack's PipelineNamePattern (default `*`; e.g. `shop-*` covers this one).
      pipelineName: 'shop-web',
      pipelineType: codepipeline.PipelineType.V2,
      stages: [
        {
          stageName: 'Source',
          actions: [
            new actions.S3SourceAction({
              actionName: 'Source',
              bucket: sourceBucket,
              bucketKey: 'shop-web.zip',
              output: sourceOutput,
              trigger: actions.S3Trigger.NONE,
            }),
          ],
        },
        // ... your Build and Deploy stages; the runner then checks what Deploy just released.
        {
          stageName: 'Test',
          actions: [
            // Grants lambda:InvokeFunction on the runner to the action's role.
            new actions.LambdaInvokeAction({
              actionName: 'SmokeTests',
              lambda: runner,
              // Later actions read #{SmokeTests.passed}, #{SmokeTests.failed}, #{SmokeTests.p95_ms}.
              variablesNamespace: 'SmokeTests',
              userParameters: {
                base_url: 'https://canary.shop.example.com',
                checks: [{ name: 'health', url: '/health' }],
              },
            }),
          ],
        },
        {
          stageName: 'Bake',
          actions: [
            // Grants sns:Publish on the topic to gateNotifier. In the hooks stack's account the topic and key policies
            // suffice; from another account gateNotifier also needs the KMS actions below.
            new actions.ManualApprovalAction({
              actionName: 'HealthyForThirtyMinutes',
              notificationTopic: autoApproverTopic,
              additionalInformation: JSON.stringify({
                alarms: ['checkout-5xx', 'checkout-p99-latency'],
                bake_minutes: 30,
              }),
              role: gateNotifier,
            }),
          ],
        },
        // ... Production.
      ],
    });

    gateNotifier.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptForTheGateTopic',
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: [hooksExport('GateTopicKeyArn')],
      }),
    );

    new CfnOutput(this, 'GateNotifierRoleArn', {
      description: "Add this to the hooks stack's PipelineRoleArns",
      value: gateNotifier.roleArn,
    });
  }
}

const app = new App();
new ShopPipelineStack(app, 'ShopPipeline');
app.synth();
