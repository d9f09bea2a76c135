//! The `aws-sts` validator: AWS STS `GetCallerIdentity`, signed with Signature Version 4.
//!
//! `GetCallerIdentity` needs no permission, so any working key pair answers it with the
//! account and ARN it belongs to; a wrong pair answers 403 `InvalidClientTokenId` (unknown key
//! id) or `SignatureDoesNotMatch` (wrong secret). The secret access key never leaves this
//! process: only the signature computed from it is sent.

use std::time::{SystemTime, UNIX_EPOCH};

use ring::{digest, hmac};

use super::http::{HttpRequest, HttpResponse};
use crate::finding::{LiveState, UnknownReason};

pub const HOST: &str = "sts.amazonaws.com";
const REGION: &str = "us-east-1";
const SERVICE: &str = "sts";
const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// The signed `GetCallerIdentity` request for a key pair, at time `now`.
pub fn caller_identity_request(
    access_key_id: &str,
    secret_key: &str,
    now: SystemTime,
) -> HttpRequest {
    let amz_date = amz_date(now);
    let headers = [
        ("content-type", CONTENT_TYPE),
        ("host", HOST),
        ("x-amz-date", amz_date.as_str()),
    ];
    let auth = authorization(
        &SigningInput {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: BODY.as_bytes(),
            region: REGION,
            service: SERVICE,
            amz_date: &amz_date,
        },
        access_key_id,
        secret_key,
    );
    HttpRequest {
        method: "POST".into(),
        url: format!("https://{HOST}/"),
        headers: vec![
            ("Content-Type".into(), CONTENT_TYPE.into()),
            ("X-Amz-Date".into(), amz_date),
            ("Authorization".into(), auth),
            ("Accept".into(), "application/xml".into()),
        ],
        body: Some(BODY.as_bytes().to_vec()),
    }
}

/// What the answer says: the state, the caller's ARN and the kind of key.
pub fn read_answer(
    resp: &HttpResponse,
    access_key_id: &str,
) -> (
    LiveState,
    Option<UnknownReason>,
    Option<String>,
    Option<String>,
) {
    let body = String::from_utf8_lossy(&resp.body);
    let key_type = match access_key_id.get(..4) {
        Some("AKIA") => Some("long-term access key".to_string()),
        Some("ASIA") => Some("temporary credentials".to_string()),
        _ => None,
    };
    match resp.status {
        200 => match xml_element(&body, "Arn") {
            Some(arn) => (LiveState::Valid, None, Some(arn), key_type),
            None => (
                LiveState::Unknown,
                Some(UnknownReason::BadResponse),
                None,
                None,
            ),
        },
        400 | 403 => match xml_element(&body, "Code").as_deref() {
            Some(
                "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "InvalidAccessKeyId"
                | "UnrecognizedClientException",
            ) => (LiveState::Invalid, None, None, None),
            _ => (
                LiveState::Unknown,
                Some(UnknownReason::UnexpectedStatus(resp.status)),
                None,
                None,
            ),
        },
        s => (
            LiveState::Unknown,
            Some(UnknownReason::UnexpectedStatus(s)),
            None,
            None,
        ),
    }
}

/// The text of the first `<name>…</name>` element (STS answers are small, flat XML).
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let v = xml[start..end].trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// What SigV4 signs.
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// Already URI-encoded.
    pub path: &'a str,
    /// Canonical (sorted, encoded) query string.
    pub query: &'a str,
    /// Lower-case names; every header listed here is signed.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
}

/// The `Authorization` header value for a request.
pub fn authorization(input: &SigningInput<'_>, access_key_id: &str, secret_key: &str) -> String {
    let mut headers: Vec<(&str, &str)> = input.headers.to_vec();
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let canonical_headers: String = headers
        .iter()
        .map(|(n, v)| format!("{n}:{}\n", v.trim()))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        input.path,
        input.query,
        canonical_headers,
        signed_headers,
        hex(digest::digest(&digest::SHA256, input.body).as_ref())
    );
    let date = &input.amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref())
    );
    let k_date = hmac_sha256(format!("AWS4{secret_key}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, input.region.as_bytes());
    let k_service = hmac_sha256(&k_region, input.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&k, data).as_ref().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSZ` in UTC.
pub fn amz_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The worked example of AWS's SigV4 documentation (IAM `ListUsers`).
    #[test]
    fn matches_the_documented_signature() {
        let auth = authorization(
            &SigningInput {
                method: "GET",
                path: "/",
                query: "Action=ListUsers&Version=2010-05-08",
                headers: &[
                    (
                        "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8",
                    ),
                    ("host", "iam.amazonaws.com"),
                    ("x-amz-date", "20150830T123600Z"),
                ],
                body: b"",
                region: "us-east-1",
                service: "iam",
                amz_date: "20150830T123600Z",
            },
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn dates_are_utc() {
        let t = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30 12:36:00 UTC
        assert_eq!(amz_date(t), "20150830T123600Z");
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&amz_date(leap)[..8], "20000229");
    }

    #[test]
    fn the_request_never_carries_the_secret() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzzzzzzzzzz";
        let r = caller_identity_request("AKIAIOSFODNN7ABCDEFG", secret, SystemTime::now());
        assert!(!r.url.contains(secret));
        assert!(r.headers.iter().all(|(_, v)| !v.contains(secret)));
        assert!(!String::from_utf8_lossy(r.body.as_deref().unwrap()).contains(secret));
        assert!(r.headers.iter().any(|(n, v)| n == "Authorization"
            && v.starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7ABCDEFG/")));
    }

    #[test]
    fn answers_are_read() {
        let ok = HttpResponse {
            status: 200,
            headers: vec![],
            body: b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>".to_vec(),
        };
        let (s, _, id, kt) = read_answer(&ok, "AKIAXXXX");
        assert_eq!(s, LiveState::Valid);
        assert_eq!(id.as_deref(), Some("arn:aws:iam::123456789012:user/ci"));
        assert_eq!(kt.as_deref(), Some("long-term access key"));
        let bad = HttpResponse {
            status: 403,
            headers: vec![],
            body: b"<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>".to_vec(),
        };
        assert_eq!(read_answer(&bad, "AKIAXXXX").0, LiveState::Invalid);
        let odd = HttpResponse {
            status: 403,
            headers: vec![],
            body: b"<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>".to_vec(),
        };
        assert_eq!(read_answer(&odd, "AKIAXXXX").0, LiveState::Unknown);
    }
}
