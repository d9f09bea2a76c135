//! The validation phase of `scan --validate`: one HTTP client for the run, each scope's
//! findings checked against its own rules. The only place a scan touches the network.

use anyhow::{Context as _, Result};

use crate::cli::ValidationArgs;
use crate::finding::{Finding, UnknownReason};
use crate::rules::RuleSet;
use crate::validate;

pub struct Validator {
    client: validate::ClientOptions,
    /// Built at the first finding to check: a run with nothing to check builds no client.
    transport: Option<validate::UreqTransport>,
    opts: validate::Options,
    pub stats: validate::Stats,
}

impl Validator {
    /// Builds the run's one HTTP client. Reading `--ca-cert` files fails here, before any
    /// scanning.
    pub fn new(args: &ValidationArgs) -> Result<Validator> {
        let mut extra_ca = Vec::new();
        for path in &args.ca_cert {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read --ca-cert {}", path.display()))?;
            let certs = validate::read_pem_certificates(&pem)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("--ca-cert {}", path.display()))?;
            extra_ca.extend(certs);
        }
        let client = validate::ClientOptions {
            timeout: args.validation_timeout,
            connect_to: args.connect_to.clone(),
            extra_ca,
            env_proxy: true,
        };
        let opts = validate::Options {
            concurrency: usize::from(args.validation_concurrency),
            per_host_rate: args.validation_rate,
            retries: args.validation_retries,
            max_requests_per_provider: args.max_validation_requests,
            allowed_hosts: args.allow_validation_host.clone(),
            access_map: args.access_map,
            ..validate::Options::default()
        };
        Ok(Validator {
            client,
            transport: None,
            opts,
            stats: validate::Stats::default(),
        })
    }

    /// Checks `findings` (found with `set`).
    pub fn check(&mut self, set: &RuleSet, findings: &mut [Finding], quiet: bool) {
        if findings.is_empty() {
            return;
        }
        // Level 1: one line per check (-v); level 2: retries (-vv). Never a secret.
        let log = |level: u8, msg: &str| {
            if level <= 1 {
                log::info!("{msg}");
            } else {
                log::debug!("{msg}");
            }
        };
        let client = &self.client;
        let transport = self
            .transport
            .get_or_insert_with(|| validate::UreqTransport::new(client));
        let stats = validate::validate_findings(set, findings, transport, &self.opts, &log);
        self.stats.add(&stats);
        if !quiet {
            refused_hosts(findings);
        }
    }
}

/// Says which user rules were not allowed to contact their hosts, and how to allow them.
fn refused_hosts(findings: &[Finding]) {
    let mut refused: Vec<(&str, &str)> = findings
        .iter()
        .filter_map(|f| match f.validation.as_ref()?.reason.as_ref()? {
            UnknownReason::HostNotAllowed(h) => Some((f.rule_id.as_str(), h.as_str())),
            _ => None,
        })
        .collect();
    refused.sort_unstable();
    refused.dedup();
    for (rule, host) in refused {
        eprintln!(
            "keyhound: rule {rule} is not built in, so it may not send secrets to {host}; pass \
             --allow-validation-host {host} to allow it"
        );
    }
}
