//! Which keyhound rules find what a gitleaks (or Betterleaks) default rule finds, for
//! `.gitleaksignore` entries and imported gitleaks reports. Only detectors that look for the
//! same credential are mapped; a gitleaks rule with no counterpart maps to nothing, and the
//! caller says so. Patterns are rule-id patterns as `--disable-rule` reads them.

/// gitleaks rule id → keyhound rule-id patterns, sorted by gitleaks id.
const MAP: &[(&str, &[&str])] = &[
    ("1password-secret-key", &["1password.secret-key"]),
    (
        "1password-service-account-token",
        &["1password.service-account-token"],
    ),
    ("age-secret-key", &["age.secret-key"]),
    (
        "airtable-personnal-access-token",
        &["airtable.personal-access-token"],
    ),
    ("algolia-api-key", &["algolia.admin-api-key"]),
    ("alibaba-access-key-id", &["alibaba.access-key-id"]),
    ("alibaba-secret-key", &["alibaba.access-key-secret"]),
    ("anthropic-admin-api-key", &["anthropic.admin-key"]),
    ("anthropic-api-key", &["anthropic.api-key"]),
    ("artifactory-api-key", &["jfrog.api-key"]),
    ("artifactory-reference-token", &["jfrog.reference-token"]),
    (
        "atlassian-api-token",
        &["atlassian.api-token", "atlassian.api-token-legacy"],
    ),
    ("aws-access-token", &["aws.access-key-id"]),
    ("azure-ad-client-secret", &["azure.entra-client-secret"]),
    ("bitbucket-client-secret", &["bitbucket.app-password"]),
    ("clojars-api-token", &["clojars.deploy-token"]),
    (
        "cloudflare-api-key",
        &[
            "cloudflare.user-api-token",
            "cloudflare.account-api-token",
            "cloudflare.legacy-api-token",
        ],
    ),
    (
        "cloudflare-global-api-key",
        &[
            "cloudflare.global-api-key",
            "cloudflare.legacy-global-api-key",
        ],
    ),
    ("cloudflare-origin-ca-key", &["cloudflare.origin-ca-key"]),
    ("codecov-access-token", &["codecov.upload-token"]),
    ("cohere-api-token", &["cohere.api-key"]),
    ("confluent-access-token", &["confluent.api-key"]),
    ("confluent-secret-key", &["confluent.api-secret"]),
    (
        "contentful-delivery-api-token",
        &["contentful.personal-access-token"],
    ),
    ("databricks-api-token", &["databricks.access-token"]),
    (
        "datadog-access-token",
        &["datadog.api-key", "datadog.app-key"],
    ),
    (
        "defined-networking-api-token",
        &["definednetworking.api-key"],
    ),
    (
        "digitalocean-access-token",
        &["digitalocean.oauth-access-token"],
    ),
    ("digitalocean-pat", &["digitalocean.personal-access-token"]),
    (
        "digitalocean-refresh-token",
        &["digitalocean.oauth-refresh-token"],
    ),
    ("discord-api-token", &["discord.bot-token"]),
    ("doppler-api-token", &["doppler"]),
    ("droneci-access-token", &["drone.personal-token"]),
    ("dropbox-api-token", &["dropbox"]),
    (
        "dropbox-long-lived-api-token",
        &["dropbox.long-lived-token"],
    ),
    (
        "dropbox-short-lived-api-token",
        &["dropbox.short-lived-token"],
    ),
    ("duffel-api-token", &["duffel.live-access-token"]),
    ("dynatrace-api-token", &["dynatrace.token"]),
    ("easypost-api-token", &["easypost.production-api-key"]),
    ("fastly-api-token", &["fastly.api-token"]),
    ("flutterwave-secret-key", &["flutterwave.secret-key"]),
    ("flyio-access-token", &["flyio"]),
    ("frameio-api-token", &["frameio.developer-token"]),
    ("gcp-api-key", &["google.api-key"]),
    ("generic-api-key", &["generic"]),
    (
        "github-app-token",
        &[
            "github.user-to-server-token",
            "github.server-to-server-token",
        ],
    ),
    ("github-fine-grained-pat", &["github.fine-grained-pat"]),
    ("github-oauth", &["github.oauth-token"]),
    ("github-pat", &["github.classic-pat"]),
    ("github-refresh-token", &["github.refresh-token"]),
    ("gitlab-deploy-token", &["gitlab.deploy-token"]),
    ("gitlab-pat", &["gitlab.personal-access-token"]),
    ("gitlab-pat-routable", &["gitlab.personal-access-token"]),
    ("gitlab-ptt", &["gitlab.pipeline-trigger-token"]),
    (
        "gitlab-runner-authentication-token",
        &["gitlab.runner-authentication-token"],
    ),
    (
        "gitlab-runner-authentication-token-routable",
        &["gitlab.runner-authentication-token"],
    ),
    ("gocardless-api-token", &["gocardless.live-access-token"]),
    ("grafana-api-key", &["grafana.api-key"]),
    ("grafana-cloud-api-token", &["grafana.cloud-token"]),
    (
        "grafana-service-account-token",
        &["grafana.service-account-token"],
    ),
    ("harness-api-key", &["harness"]),
    ("hashicorp-tf-api-token", &["terraform.api-token"]),
    ("heroku-api-key", &["heroku.legacy-api-key"]),
    ("heroku-api-key-v2", &["heroku.api-key"]),
    ("hubspot-api-key", &["hubspot.private-app-token"]),
    (
        "huggingface-access-token",
        &["huggingface.user-access-token"],
    ),
    (
        "huggingface-organization-api-token",
        &["huggingface.org-api-token"],
    ),
    ("infracost-api-token", &["infracost.api-key"]),
    ("intercom-api-key", &["intercom.access-token"]),
    ("jfrog-api-key", &["jfrog.api-key"]),
    ("jfrog-identity-token", &["jfrog.reference-token"]),
    ("jwt", &["jwt"]),
    ("kubernetes-secret-yaml", &["decode.kubernetes-secret"]),
    ("launchdarkly-access-token", &["launchdarkly"]),
    ("linear-api-key", &["linear.api-key"]),
    ("lob-api-key", &["lob.api-key"]),
    (
        "mailchimp-api-key",
        &["mailchimp.api-key", "mandrill.api-key"],
    ),
    (
        "mailgun-private-api-token",
        &["mailgun.api-key", "mailgun.legacy-api-key"],
    ),
    ("mailgun-signing-key", &["mailgun.webhook-signing-key"]),
    ("mapbox-api-token", &["mapbox.secret-token"]),
    ("messagebird-api-token", &["messagebird.access-key"]),
    ("microsoft-teams-webhook", &["msteams"]),
    ("netlify-access-token", &["netlify"]),
    ("new-relic-insert-key", &["newrelic.insert-key"]),
    ("new-relic-user-api-key", &["newrelic.user-api-key"]),
    ("notion-api-token", &["notion"]),
    ("npm-access-token", &["npm.access-token"]),
    ("nuget-config-password", &["nuget.api-key"]),
    ("octopus-deploy-api-key", &["octopus-deploy.api-key"]),
    ("okta-access-token", &["okta.api-token"]),
    ("openai-api-key", &["openai"]),
    ("perplexity-api-key", &["perplexity.api-key"]),
    ("plaid-api-token", &["plaid.access-token"]),
    ("plaid-client-id", &["plaid.client-id"]),
    ("plaid-secret-key", &["plaid.secret"]),
    ("planetscale-api-token", &["planetscale.service-token"]),
    ("planetscale-oauth-token", &["planetscale.oauth-token"]),
    ("planetscale-password", &["planetscale.password"]),
    ("postman-api-token", &["postman.api-key"]),
    ("prefect-api-token", &["prefect.api-key"]),
    ("private-key", &["private-key"]),
    ("pulumi-api-token", &["pulumi.access-token"]),
    ("pypi-upload-token", &["pypi"]),
    ("rapidapi-access-token", &["rapidapi.api-key"]),
    ("readme-api-token", &["readme.api-key"]),
    ("rubygems-api-token", &["rubygems"]),
    ("scalingo-api-token", &["scalingo.api-token"]),
    ("sendgrid-api-token", &["sendgrid.api-key"]),
    ("sendinblue-api-token", &["brevo.api-key"]),
    (
        "sentry-access-token",
        &["sentry.auth-token", "sentry.user-auth-token"],
    ),
    ("sentry-org-token", &["sentry.org-auth-token"]),
    ("sentry-user-token", &["sentry.user-auth-token"]),
    ("shippo-api-token", &["shippo.live-api-token"]),
    ("shopify-access-token", &["shopify.admin-access-token"]),
    (
        "shopify-custom-access-token",
        &["shopify.custom-app-access-token"],
    ),
    (
        "shopify-private-app-access-token",
        &["shopify.private-app-access-token"],
    ),
    ("shopify-shared-secret", &["shopify.app-shared-secret"]),
    ("slack-app-token", &["slack.app-token"]),
    ("slack-bot-token", &["slack.bot-token"]),
    ("slack-config-access-token", &["slack.rotating-token"]),
    ("slack-config-refresh-token", &["slack.refresh-token"]),
    ("slack-legacy-bot-token", &["slack.bot-token"]),
    ("slack-legacy-token", &["slack.user-token"]),
    ("slack-legacy-workspace-token", &["slack.workspace-token"]),
    ("slack-user-token", &["slack.user-token"]),
    (
        "slack-webhook-url",
        &["slack.webhook-url", "slack.workflow-webhook-url"],
    ),
    ("snyk-api-token", &["snyk.api-token"]),
    ("sonar-api-token", &["sonarqube"]),
    ("sourcegraph-access-token", &["sourcegraph.access-token"]),
    (
        "square-access-token",
        &["square.access-token", "square.legacy-access-token"],
    ),
    (
        "stripe-access-token",
        &["stripe.secret-key", "stripe.restricted-key"],
    ),
    ("sumologic-access-id", &["sumologic.access-id"]),
    ("sumologic-access-token", &["sumologic.access-key"]),
    ("telegram-bot-api-token", &["telegram.bot-token"]),
    ("travisci-access-token", &["travisci.api-token"]),
    ("twilio-api-key", &["twilio.api-key"]),
    ("twitch-api-token", &["twitch.oauth-token"]),
    ("twitter-api-key", &["twitter.api-key"]),
    ("twitter-api-secret", &["twitter.api-secret"]),
    ("twitter-bearer-token", &["twitter.bearer-token"]),
    ("typeform-api-token", &["typeform.personal-access-token"]),
    ("vault-batch-token", &["vault.batch-token"]),
    (
        "vault-service-token",
        &["vault.service-token", "vault.legacy-token"],
    ),
    ("yandex-access-token", &["yandex.iam-token"]),
    ("yandex-api-key", &["yandex.api-key"]),
    ("zendesk-secret-key", &["zendesk.api-token"]),
];

/// The keyhound rule-id patterns for a gitleaks rule id (compared without regard to case):
/// the built-in counterparts above, and `gitleaks.<id>`, the id the rule has when it is
/// imported from a `.gitleaks.toml` or `--rules FILE.toml`.
pub fn keyhound_patterns(gitleaks_id: &str) -> Vec<String> {
    let id = gitleaks_id.to_ascii_lowercase();
    let mut out: Vec<String> = MAP
        .binary_search_by(|(k, _)| k.cmp(&id.as_str()))
        .map(|i| MAP[i].1.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    out.extend(crate::rules::gitleaks::keyhound_id(gitleaks_id));
    out
}

/// Whether keyhound has a built-in counterpart for the gitleaks rule.
pub fn has_builtin(gitleaks_id: &str) -> bool {
    let id = gitleaks_id.to_ascii_lowercase();
    MAP.binary_search_by(|(k, _)| k.cmp(&id.as_str())).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DisableRule, RulePatternSource};

    #[test]
    fn the_table_is_sorted_and_names_rules_that_exist() {
        assert!(MAP.windows(2).all(|w| w[0].0 < w[1].0), "MAP is not sorted");
        let set = crate::rules::RuleSet::builtin().unwrap();
        for (gl, patterns) in MAP {
            for p in *patterns {
                let d = DisableRule {
                    pattern: p.to_string(),
                    source: RulePatternSource::DisableFlag,
                };
                assert!(
                    set.rules.iter().any(|r| d.matches(&r.id)),
                    "{gl} → {p} names no built-in rule"
                );
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            keyhound_patterns("GitHub-PAT"),
            vec!["github.classic-pat", "gitleaks.github-pat"]
        );
        assert_eq!(keyhound_patterns("my-rule"), vec!["gitleaks.my-rule"]);
        assert!(has_builtin("aws-access-token"));
        assert!(!has_builtin("adafruit-api-key"));
    }
}
