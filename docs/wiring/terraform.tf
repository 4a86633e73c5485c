# Wiring example (Terraform, hashicorp/aws provider v5): a pipeline that uses the codepipeline-hooks stack, deployed
# with SAM (`make deploy`). The Test stage runs the post-deploy test runner (Lambda Invoke), the Bake stage waits for
# the auto-approver (Manual approval on its topic). The failure notifier needs no wiring: its rule already matches
# this pipeline if the name matches the stack's PipelineNamePattern. A fragment: the role, bucket and source stage
# stand in for your own.

locals {
  hooks_stack = "codepipeline-hooks" # samconfig.toml's stack_name: its exports are <stack>-<output>
}

variable "source_bucket" {
  type        = string
  description = "Versioned S3 bucket holding the source zip (a stand-in for your source action)"
}

data "aws_cloudformation_export" "runner_name" {
  name = "${local.hooks_stack}-PostDeployTestRunnerFunctionName"
}

data "aws_cloudformation_export" "runner_arn" {
  name = "${local.hooks_stack}-PostDeployTestRunnerFunctionArn"
}

data "aws_cloudformation_export" "auto_approver_topic" {
  name = "${local.hooks_stack}-AutoApproverTopicArn"
}

data "aws_cloudformation_export" "gate_topic_key" {
  name = "${local.hooks_stack}-GateTopicKeyArn"
}

resource "aws_codepipeline" "shop_web" {
  # The failure notifier's rule and the hooks' IAM permissions cover pipelines whose name matches the hooks stack's
  # PipelineNamePattern (default `*`; e.g. `shop-*` covers this one).
  name          = "shop-web"
  pipeline_type = "V2"
  role_arn      = aws_iam_role.pipeline.arn # put this ARN in the hooks stack's PipelineRoleArns

  artifact_store {
    location = aws_s3_bucket.artifacts.bucket
    type     = "S3"
  }

  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "S3"
      version          = "1"
      output_artifacts = ["SourceOutput"]
      configuration = {
        S3Bucket             = var.source_bucket
        S3ObjectKey          = "shop-web.zip"
        PollForSourceChanges = "false"
      }
    }
  }

  # ... your Build and Deploy stages; the runner then checks what Deploy just released.

  stage {
    name = "Test"
    action {
      name      = "SmokeTests"
      category  = "Invoke"
      owner     = "AWS"
      provider  = "Lambda"
      version   = "1"
      namespace = "SmokeTests" # later actions read #{SmokeTests.passed}, #{SmokeTests.failed}, #{SmokeTests.p95_ms}
      configuration = {
        FunctionName = data.aws_cloudformation_export.runner_name.value
        UserParameters = jsonencode({
          base_url = "https://canary.shop.example.com"
          checks   = [{ name = "health", url = "/health" }]
        })
      }
    }
  }

  stage {
    name = "Bake"
    action {
      name     = "HealthyForThirtyMinutes"
      category = "Approval"
      owner    = "AWS"
      provider = "Manual"
      version  = "1"
      configuration = {
        NotificationArn = data.aws_cloudformation_export.auto_approver_topic.value
        CustomData      = jsonencode({ alarms = ["checkout-5xx", "checkout-p99-latency"], bake_minutes = 30 })
      }
    }
  }

  # ... Production.
}

# What the pipeline's role needs for the two actions. The Invoke action calls the runner with this role. The approval
# action publishes with it: sns:Publish and the KMS actions are needed only when the hooks stack is in another
# account (in the same account the gate's topic and key policies suffice); harmless otherwise.
data "aws_iam_policy_document" "pipeline_hooks" {
  statement {
    sid       = "RunThePostDeployTests"
    actions   = ["lambda:InvokeFunction"]
    resources = [data.aws_cloudformation_export.runner_arn.value]
  }
  statement {
    sid       = "NotifyTheGate"
    actions   = ["sns:Publish"]
    resources = [data.aws_cloudformation_export.auto_approver_topic.value]
  }
  statement {
    sid       = "EncryptForTheGateTopic"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = [data.aws_cloudformation_export.gate_topic_key.value]
  }
}

resource "aws_iam_role_policy" "pipeline_hooks" {
  name   = "codepipeline-hooks"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline_hooks.json
}
