//! The pipeline guardrail rule: an AWS Config custom Lambda rule that judges every `AWS::CodePipeline::Pipeline`
//! against the release practices this suite exists for (an approval gate before production, a test after every
//! deploy, small segments, a watched promotion), each switched by a rule parameter. `event` parses what Config
//! sends, `pipeline` the declaration, `params` the rule parameters, `practices` judges (pure), `handler` reads and
//! puts.

pub mod error;
pub mod event;
pub mod handler;
pub mod params;
pub mod pipeline;
pub mod practices;

pub use error::RuleError;
pub use handler::{GuardrailRule, Summary};
