//! `pipeline-sim demo` plays a sample release through the local simulator and the real function binaries;
//! `pipeline-sim invoke` runs one function on one event file. Test and demo only; never deployed.

use std::path::PathBuf;
use std::process::ExitCode;

use pipeline_sim::stack::Stack;
use pipeline_sim::terminal;

const USAGE: &str = "usage:
  pipeline-sim demo --bin-dir DIR
  pipeline-sim invoke --bin-dir DIR --function NAME --event FILE";

struct Args {
    command: String,
    bin_dir: PathBuf,
    function: Option<String>,
    event: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or("missing command")?;
    let (mut bin_dir, mut function, mut event) = (None, None, None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bin-dir" => bin_dir = Some(PathBuf::from(value()?)),
            "--function" => function = Some(value()?),
            "--event" => event = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Args {
        command,
        bin_dir: bin_dir.ok_or("--bin-dir is required")?,
        function,
        event,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("pipeline-sim: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match args.command.as_str() {
        "demo" => demo(&args).await,
        "invoke" => invoke(&args).await,
        other => Err(format!("unknown command {other}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("pipeline-sim: {problem}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(args: &Args) -> Result<(), String> {
    pipeline_sim::demo::run(&args.bin_dir).await
}

async fn invoke(args: &Args) -> Result<(), String> {
    let function = args.function.as_deref().ok_or("--function is required")?;
    let path = args.event.as_ref().ok_or("--event is required")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let event: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let stack = Stack::start(&args.bin_dir).await.map_err(|e| e.to_string())?;
    let host = stack.function(function, &[]).await.map_err(|e| e.to_string())?;
    let invocation = host.invoke(event).await;
    println!("outcome after {:?}: {:?}", invocation.duration, invocation.outcome);
    println!("\nfunction logs:");
    for line in host.logs() {
        println!("  {line}");
    }
    for message in stack.sim.state.slack.messages() {
        println!("\nSlack #{}:\n{}", message.route, terminal::render_slack(&message.body));
    }
    Ok(())
}
