//! Whose job is it? A job event is only a hint: anyone allowed to invoke the function can send one with a live job
//! id. The job is this function's only if `GetJobDetails` says it belongs to a Lambda Invoke action whose
//! `FunctionName` names this function. A pure decision, shared with the job reaper (which asks it about the runner).
//!
//! `FunctionName` is read the way Lambda reads an Invoke's function name:
//!
//! | form | example |
//! |---|---|
//! | name | `runner` |
//! | name and qualifier | `runner:live`, `runner:7`, `runner:$LATEST` |
//! | partial ARN | `123456789012:function:runner` (optionally `:qualifier`) |
//! | ARN | `arn:aws:lambda:us-east-1:123456789012:function:runner` (optionally `:qualifier`) |
//!
//! The name must be this function's (`AWS_LAMBDA_FUNCTION_NAME`) exactly; a region, when named, must be this
//! function's (`AWS_REGION`); an account, when named, must be the job's (`GetJobDetails` answers only jobs of the
//! caller's own account, so that is this function's). Any alias or version of this function is this function.

use std::fmt;

use hooks_common::Error;
use hooks_common::settings::Env;

/// A Lambda function, as the environment Lambda gives it names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LambdaFunction {
    pub name: String,
    /// `None` outside Lambda: then no ARN names it (an ARN always names a region).
    pub region: Option<String>,
}

/// Where Lambda puts the running function's name.
pub const FUNCTION_NAME_VAR: &str = "AWS_LAMBDA_FUNCTION_NAME";

impl LambdaFunction {
    /// The function named by the variable `name_var` (`AWS_LAMBDA_FUNCTION_NAME` for the function itself), in
    /// the region `AWS_REGION` names.
    pub fn from_env(env: &Env, name_var: &str, fix: &str) -> Result<LambdaFunction, Error> {
        let name = env.required(name_var, fix)?;
        if !is_name(&name) {
            return Err(Error::Setting {
                name: name_var.to_owned(),
                problem: format!("`{name}` is not a Lambda function name"),
                fix: "use the function's name (letters, digits, - and _; at most 64), not its ARN".to_owned(),
            });
        }
        Ok(LambdaFunction {
            name,
            region: env.optional("AWS_REGION"),
        })
    }
}

impl fmt::Display for LambdaFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.region {
            Some(region) => write!(f, "{} ({region})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What `GetJobDetails` says about the action a job belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActionFacts<'a> {
    pub category: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub provider: Option<&'a str>,
    /// The action's `FunctionName` configuration.
    pub function_name: Option<&'a str>,
    /// The job's account (`jobDetails.accountId`).
    pub account_id: Option<&'a str>,
}

/// A `FunctionName` taken apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FunctionRef<'a> {
    name: &'a str,
    region: Option<&'a str>,
    account: Option<&'a str>,
}

fn is_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_qualifier(qualifier: &str) -> bool {
    qualifier == "$LATEST" || (is_name(qualifier) && qualifier.len() <= 128)
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

/// The function a `FunctionName` names, or `None` if it is none of Lambda's forms.
fn parse(configured: &str) -> Option<FunctionRef<'_>> {
    let parts: Vec<&str> = configured.split(':').collect();
    let (region, account, name, qualifier) = match parts.as_slice() {
        [name] => (None, None, *name, None),
        [name, qualifier] => (None, None, *name, Some(*qualifier)),
        [account, "function", name] => (None, Some(*account), *name, None),
        [account, "function", name, qualifier] => (None, Some(*account), *name, Some(*qualifier)),
        ["arn", partition, "lambda", region, account, "function", name, rest @ ..] if rest.len() <= 1 => {
            if !partition.starts_with("aws") || region.is_empty() {
                return None;
            }
            (Some(*region), Some(*account), *name, rest.first().copied())
        }
        _ => return None,
    };
    let valid = is_name(name) && account.is_none_or(is_account) && qualifier.is_none_or(is_qualifier);
    valid.then_some(FunctionRef { name, region, account })
}

/// `Ok` if the job is `function`'s to answer, else why not (for a log line; nothing is reported for it).
pub fn check(facts: &ActionFacts<'_>, function: &LambdaFunction) -> Result<(), String> {
    let shown = |v: Option<&str>| v.map_or_else(|| "none".to_owned(), |v| format!("`{v}`"));
    let action_type = (facts.category, facts.owner, facts.provider);
    if action_type != (Some("Invoke"), Some("AWS"), Some("Lambda")) {
        return Err(format!(
            "the job belongs to an action of type {}/{}/{}, not a Lambda Invoke action (Invoke/AWS/Lambda)",
            shown(facts.category),
            shown(facts.owner),
            shown(facts.provider)
        ));
    }
    let configured = facts
        .function_name
        .ok_or("the job's Invoke action has no FunctionName configuration")?;
    let named = parse(configured)
        .ok_or_else(|| format!("the job's action names `{configured}`, which is not a Lambda function name or ARN"))?;
    let other_region = named.region.filter(|r| Some(*r) != function.region.as_deref());
    let other_account = named.account.filter(|a| Some(*a) != facts.account_id);
    let problem = if named.name != function.name {
        Some(format!("names the function `{}`", named.name))
    } else if let Some(region) = other_region {
        Some(format!("names a function in region {region}"))
    } else {
        other_account.map(|account| {
            format!(
                "names a function in account {account}, not the job's account {}",
                shown(facts.account_id)
            )
        })
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(format!(
            "the job's Invoke action (FunctionName `{configured}`) {problem}; this is {function}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";

    fn runner() -> LambdaFunction {
        LambdaFunction {
            name: "hooks-Runner-1A2B".into(),
            region: Some("us-east-1".into()),
        }
    }

    fn invoke(function_name: Option<&str>) -> ActionFacts<'_> {
        ActionFacts {
            category: Some("Invoke"),
            owner: Some("AWS"),
            provider: Some("Lambda"),
            function_name,
            account_id: Some(ACCOUNT),
        }
    }

    #[test]
    fn function_names_in_every_form_lambda_accepts() {
        // (FunctionName, ours?, text of the refusal)
        let cases = [
            ("hooks-Runner-1A2B", None),
            ("hooks-Runner-1A2B:live", None),
            ("hooks-Runner-1A2B:7", None),
            ("hooks-Runner-1A2B:$LATEST", None),
            ("123456789012:function:hooks-Runner-1A2B", None),
            ("123456789012:function:hooks-Runner-1A2B:live", None),
            ("arn:aws:lambda:us-east-1:123456789012:function:hooks-Runner-1A2B", None),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:hooks-Runner-1A2B:7",
                None,
            ),
            ("someone-else", Some("names the function `someone-else`")),
            // Names are compared exactly: Lambda's are case-sensitive.
            ("hooks-runner-1a2b", Some("names the function `hooks-runner-1a2b`")),
            (
                "hooks-Runner-1A2B-evil",
                Some("names the function `hooks-Runner-1A2B-evil`"),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:other:live",
                Some("names the function `other`"),
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:hooks-Runner-1A2B",
                Some("names a function in region eu-west-1"),
            ),
            (
                "210987654321:function:hooks-Runner-1A2B",
                Some("in account 210987654321, not the job's account `123456789012`"),
            ),
            (
                "arn:aws:lambda:us-east-1:210987654321:function:hooks-Runner-1A2B",
                Some("in account 210987654321"),
            ),
            // Not a function reference at all.
            ("", Some("is not a Lambda function name or ARN")),
            (
                "hooks-Runner-1A2B:live:extra",
                Some("is not a Lambda function name or ARN"),
            ),
            ("hooks-Runner-1A2B:", Some("is not a Lambda function name or ARN")),
            (
                "12345:function:hooks-Runner-1A2B",
                Some("is not a Lambda function name or ARN"),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:layer:hooks-Runner-1A2B",
                Some("is not a Lambda function name or ARN"),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:hooks-Runner-1A2B:a:b",
                Some("is not a Lambda function name or ARN"),
            ),
            (
                "arn:aws:lambda::123456789012:function:hooks-Runner-1A2B",
                Some("is not a Lambda"),
            ),
            (
                "arn:evil:lambda:us-east-1:123456789012:function:hooks-Runner-1A2B",
                Some("is not a Lambda"),
            ),
            ("hooks Runner", Some("is not a Lambda function name or ARN")),
        ];
        for (configured, refusal) in cases {
            let verdict = check(&invoke(Some(configured)), &runner());
            match (refusal, verdict) {
                (None, Ok(())) => {}
                (Some(text), Err(why)) => assert!(why.contains(text), "{configured}: {text:?} not in {why}"),
                (expected, got) => panic!("{configured}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn only_lambda_invoke_actions_naming_a_function() {
        let other = |category, owner, provider| ActionFacts {
            category,
            owner,
            provider,
            ..invoke(Some("hooks-Runner-1A2B"))
        };
        for facts in [
            other(Some("Approval"), Some("AWS"), Some("Manual")),
            other(Some("Invoke"), Some("Custom"), Some("Lambda")),
            other(Some("Invoke"), Some("AWS"), Some("StepFunctions")),
            other(None, None, None),
        ] {
            let why = check(&facts, &runner()).unwrap_err();
            assert!(why.contains("not a Lambda Invoke action"), "{why}");
        }
        let why = check(&invoke(None), &runner()).unwrap_err();
        assert!(why.contains("no FunctionName"), "{why}");
        // An ARN names a region and an account: one this function cannot confirm is not its own.
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:hooks-Runner-1A2B";
        let nowhere = LambdaFunction {
            region: None,
            ..runner()
        };
        assert!(check(&invoke(Some(arn)), &nowhere).is_err());
        let no_account = ActionFacts {
            account_id: None,
            ..invoke(Some(arn))
        };
        assert!(check(&no_account, &runner()).is_err());
    }

    #[test]
    fn the_function_comes_from_lambdas_environment() {
        let env = Env::from_pairs(&[(FUNCTION_NAME_VAR, "hooks-Runner-1A2B"), ("AWS_REGION", "us-east-1")]);
        assert_eq!(LambdaFunction::from_env(&env, FUNCTION_NAME_VAR, "").unwrap(), runner());
        let missing = LambdaFunction::from_env(&Env::from_pairs(&[]), "RUNNER_FUNCTION_NAME", "set it").unwrap_err();
        assert!(missing.to_string().contains("RUNNER_FUNCTION_NAME"), "{missing}");
        let arn = Env::from_pairs(&[("RUNNER_FUNCTION_NAME", "arn:aws:lambda:us-east-1:1:function:x")]);
        let err = LambdaFunction::from_env(&arn, "RUNNER_FUNCTION_NAME", "").unwrap_err();
        assert!(err.to_string().contains("not its ARN"), "{err}");
    }
}
