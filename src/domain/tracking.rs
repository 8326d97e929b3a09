//! Tracked links and signed report tokens, the pure part.
//!
//! A message's http(s) links are numbered and replaced by markers when the message is stored;
//! at send time each marker becomes that recipient's tracked URL (or the original link when
//! tracking is off). A link token carries the delivery id, the link number and an expiry,
//! signed with HMAC-SHA256: it names what was clicked, never where to go (the target is read
//! from the database), so the endpoint cannot be turned into an open redirect.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Lang;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the signature kept in a token: 128 bits.
const TAG: usize = 16;

/// A token's purpose, signed with it, so one kind can never pass for another.
const LINK: u8 = 1;
const REPORT: u8 = 2;

/// Signs and checks tokens with one key.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of ours (malformed, tampered, another key, another kind).
    Invalid,
    /// Ours, but past its expiry.
    Expired,
}

/// What a report token grants: one file of one campaign's or broadcast's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportGrant {
    pub kind: ReportKind,
    pub id: String,
    pub file: ReportFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    Campaign,
    Broadcast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFile {
    Chart,
    Csv,
    /// The report page (HTML), in the admin's language.
    Page(Lang),
}

impl Signer {
    /// A signer keyed with `secret` (any length: it is hashed to the key).
    pub fn new(secret: &[u8]) -> Signer {
        use sha2::Digest;
        let key: [u8; 32] = Sha256::digest(secret).into();
        Signer { key }
    }

    fn tag(&self, kind: u8, body: &[u8]) -> [u8; TAG] {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key");
        mac.update(&[kind]);
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG];
        tag.copy_from_slice(&full[..TAG]);
        tag
    }

    fn seal(&self, kind: u8, body: Vec<u8>) -> String {
        let mut out = body;
        let tag = self.tag(kind, &out);
        out.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The body of a token of `kind` whose signature holds; the expiry (seconds since the
    /// epoch, the body's first 8 bytes) is checked against `now`.
    fn open(&self, kind: u8, token: &str, now: i64) -> Result<Vec<u8>, TokenError> {
        let (expires, body) = self.verify(kind, token)?;
        if now >= expires {
            return Err(TokenError::Expired);
        }
        Ok(body)
    }

    /// (expiry, body) of a token of `kind` whose signature holds, expired or not.
    fn verify(&self, kind: u8, token: &str) -> Result<(i64, Vec<u8>), TokenError> {
        let raw = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| TokenError::Invalid)?;
        if raw.len() < 8 + TAG {
            return Err(TokenError::Invalid);
        }
        let (body, tag) = raw.split_at(raw.len() - TAG);
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key");
        mac.update(&[kind]);
        mac.update(body);
        // Constant-time comparison of the truncated tag.
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenError::Invalid)?;
        let expires = i64::from_be_bytes(body[..8].try_into().map_err(|_| TokenError::Invalid)?);
        Ok((expires, body[8..].to_vec()))
    }

    /// The token of link `idx` in delivery `delivery_id`, valid until `expires` (epoch seconds).
    pub fn link_token(&self, delivery_id: i64, idx: u16, expires: i64) -> String {
        let mut body = Vec::with_capacity(18);
        body.extend_from_slice(&expires.to_be_bytes());
        body.extend_from_slice(&delivery_id.to_be_bytes());
        body.extend_from_slice(&idx.to_be_bytes());
        self.seal(LINK, body)
    }

    /// (delivery id, link number) of a valid link token.
    pub fn open_link(&self, token: &str, now: i64) -> Result<(i64, u16), TokenError> {
        let body = self.open(LINK, token, now)?;
        if body.len() != 10 {
            return Err(TokenError::Invalid);
        }
        let delivery = i64::from_be_bytes(body[..8].try_into().map_err(|_| TokenError::Invalid)?);
        let idx = u16::from_be_bytes([body[8], body[9]]);
        Ok((delivery, idx))
    }

    pub fn report_token(&self, grant: &ReportGrant, expires: i64) -> String {
        let mut body = Vec::with_capacity(11 + grant.id.len());
        body.extend_from_slice(&expires.to_be_bytes());
        body.push(match grant.kind {
            ReportKind::Campaign => b'c',
            ReportKind::Broadcast => b'b',
        });
        match grant.file {
            ReportFile::Chart => body.push(b'p'),
            ReportFile::Csv => body.push(b'v'),
            ReportFile::Page(lang) => {
                body.push(b'h');
                body.push(match lang {
                    Lang::En => b'e',
                    Lang::Fr => b'f',
                });
            }
        }
        body.extend_from_slice(grant.id.as_bytes());
        self.seal(REPORT, body)
    }

    pub fn open_report(&self, token: &str, now: i64) -> Result<ReportGrant, TokenError> {
        let (grant, expires) = self.read_report(token)?;
        if now >= expires {
            return Err(TokenError::Expired);
        }
        Ok(grant)
    }

    /// A report token's grant and expiry (epoch seconds), whether or not it has expired: the
    /// signature alone is checked (`Invalid` only), so an expired page can still be explained
    /// in the language it was made for.
    pub fn read_report(&self, token: &str) -> Result<(ReportGrant, i64), TokenError> {
        let (expires, body) = self.verify(REPORT, token)?;
        let kind = match body.first() {
            Some(b'c') => ReportKind::Campaign,
            Some(b'b') => ReportKind::Broadcast,
            _ => return Err(TokenError::Invalid),
        };
        let (file, id) = match body.get(1) {
            Some(b'p') => (ReportFile::Chart, &body[2..]),
            Some(b'v') => (ReportFile::Csv, &body[2..]),
            Some(b'h') => {
                let lang = match body.get(2) {
                    Some(b'e') => Lang::En,
                    Some(b'f') => Lang::Fr,
                    _ => return Err(TokenError::Invalid),
                };
                (ReportFile::Page(lang), &body[3..])
            }
            _ => return Err(TokenError::Invalid),
        };
        let id = String::from_utf8(id.to_vec()).map_err(|_| TokenError::Invalid)?;
        Ok((ReportGrant { kind, id, file }, expires))
    }
}

/// Where link number `idx` stands in a stored message: a character no one types (Unicode
/// private use) around the number. JSON keeps it as it is, so it can be replaced in a
/// serialised card too.
pub fn marker(idx: usize) -> String {
    format!("\u{E000}{idx}\u{E001}")
}

/// The http(s) links of `text` (Markdown `[text](url)` and bare URLs), each distinct link once,
/// in order, and the text with each replaced by its marker.
pub fn mark_links(text: &str) -> (String, Vec<String>) {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    finder.url_must_have_scheme(true);
    let mut links: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for link in finder.links(text) {
        let url = link.as_str();
        let lower = url.to_ascii_lowercase();
        let web = lower.starts_with("https://") || lower.starts_with("http://");
        // A link that JSON would escape, or that holds our markers, is left as written.
        let plain = !url.chars().any(|c| {
            c == '"' || c == '\\' || c.is_control() || ('\u{E000}'..='\u{E001}').contains(&c)
        });
        // A link holding a placeholder is personalised per recipient: left as written.
        let templated = url.contains(['[', ']', '{', '}']);
        if !web || !plain || templated || url.len() > 2048 {
            continue;
        }
        let idx = match links.iter().position(|l| l == url) {
            Some(i) => i,
            None => {
                links.push(url.to_string());
                links.len() - 1
            }
        };
        out.push_str(&text[last..link.start()]);
        out.push_str(&marker(idx));
        last = link.end();
    }
    out.push_str(&text[last..]);
    (out, links)
}

/// `text` with each marker replaced by `url(idx)`.
pub fn fill_links(text: &str, count: usize, url: impl Fn(usize) -> String) -> String {
    let mut out = text.to_string();
    for idx in 0..count {
        let m = marker(idx);
        if out.contains(&m) {
            out = out.replace(&m, &url(idx));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_in_markdown_and_bare_and_put_back() {
        let text = "See [the plan](https://intra.example.com/plan?x=1&y=2) and \
                    https://example.org/a, or (http://b.example.com). Not ftp://x.y, nor mailto:a@b.c. \
                    Again https://example.org/a";
        let (marked, links) = mark_links(text);
        assert_eq!(
            links,
            [
                "https://intra.example.com/plan?x=1&y=2",
                "https://example.org/a",
                "http://b.example.com"
            ]
        );
        assert!(
            marked.contains(&format!("[the plan]({})", marker(0))),
            "{marked}"
        );
        assert!(
            marked.contains(&format!("{}, or ({}).", marker(1), marker(2))),
            "{marked}"
        );
        assert!(marked.contains("ftp://x.y"));
        assert_eq!(fill_links(&marked, links.len(), |i| links[i].clone()), text);
        let (kept, none) = mark_links("Go to https://survey.example.com/?n=[FIRSTNAME] now");
        assert!(none.is_empty());
        assert_eq!(kept, "Go to https://survey.example.com/?n=[FIRSTNAME] now");
        let tracked = fill_links(&marked, links.len(), |i| format!("https://h/l/{i}"));
        assert!(tracked.contains("[the plan](https://h/l/0)"));
        assert_eq!(tracked.matches("https://h/l/1").count(), 2);
    }

    #[test]
    fn link_tokens_round_trip_and_refuse_tampering() {
        let s = Signer::new(b"secret one");
        let t = s.link_token(42, 3, 2_000);
        assert_eq!(s.open_link(&t, 1_000), Ok((42, 3)));
        assert_eq!(s.open_link(&t, 2_000), Err(TokenError::Expired));
        // Every single changed character is refused.
        for i in 0..t.len() {
            let mut chars: Vec<char> = t.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let bad: String = chars.into_iter().collect();
            assert_eq!(s.open_link(&bad, 1_000), Err(TokenError::Invalid), "{i}");
        }
        let other = Signer::new(b"secret two");
        assert_eq!(other.open_link(&t, 1_000), Err(TokenError::Invalid));
        assert_eq!(s.open_link("", 1_000), Err(TokenError::Invalid));
        assert_eq!(s.open_link("!!!", 1_000), Err(TokenError::Invalid));
        // A report token is not a link token.
        let grant = ReportGrant {
            kind: ReportKind::Campaign,
            id: "0193-abc".into(),
            file: ReportFile::Csv,
        };
        let r = s.report_token(&grant, 2_000);
        assert_eq!(s.open_link(&r, 1_000), Err(TokenError::Invalid));
        assert_eq!(s.open_report(&r, 1_000), Ok(grant));
        assert_eq!(s.open_report(&t, 1_000), Err(TokenError::Invalid));
        assert_eq!(s.open_report(&r, 3_000), Err(TokenError::Expired));
    }

    #[test]
    fn page_tokens_carry_their_language_and_their_expiry() {
        let s = Signer::new(b"secret one");
        for lang in [Lang::En, Lang::Fr] {
            let grant = ReportGrant {
                kind: ReportKind::Broadcast,
                id: "0193-b".into(),
                file: ReportFile::Page(lang),
            };
            let t = s.report_token(&grant, 2_000);
            assert_eq!(s.open_report(&t, 1_999), Ok(grant.clone()));
            assert_eq!(s.open_report(&t, 2_000), Err(TokenError::Expired));
            // Expired, it still says what it was for (its signature holds).
            assert_eq!(s.read_report(&t), Ok((grant, 2_000)));
            for i in 0..t.len() {
                let mut chars: Vec<char> = t.chars().collect();
                chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
                let bad: String = chars.into_iter().collect();
                assert_eq!(s.read_report(&bad), Err(TokenError::Invalid), "{i}");
            }
        }
        // The CSV of the same report is another token.
        let csv = ReportGrant {
            kind: ReportKind::Broadcast,
            id: "0193-b".into(),
            file: ReportFile::Csv,
        };
        assert_eq!(s.open_report(&s.report_token(&csv, 2_000), 1_000), Ok(csv));
    }
}
