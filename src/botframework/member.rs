//! A conversation member's profile, as the connector's get-member call answers it.

use serde::Deserialize;

/// A conversation member's profile (Teams' `TeamsChannelAccount`). The object id comes as
/// `objectId`, `aadObjectId`, or both (read through [`RawMember`]: a serde alias would refuse
/// a profile carrying both as a duplicate field, and the user would lose name and email).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "RawMember")]
pub struct Member {
    pub id: String,
    pub name: Option<String>,
    pub aad_object_id: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub email: Option<String>,
    pub user_principal_name: Option<String>,
    pub tenant_id: Option<String>,
}

/// The profile as the connector writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMember {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    aad_object_id: Option<String>,
    #[serde(default)]
    object_id: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    surname: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
}

impl From<RawMember> for Member {
    fn from(raw: RawMember) -> Member {
        let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        Member {
            id: raw.id,
            name: raw.name,
            // The two name the same Entra object; the raw JSON's own `objectId` first.
            aad_object_id: nonempty(raw.object_id).or(nonempty(raw.aad_object_id)),
            given_name: raw.given_name,
            surname: raw.surname,
            email: raw.email,
            user_principal_name: raw.user_principal_name,
            tenant_id: raw.tenant_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_with_either_or_both_object_id_fields_is_read_whole() {
        let both: Member = serde_json::from_str(
            r#"{"id":"29:u","name":"Ada L","objectId":"aad-1","aadObjectId":"aad-1",
                "givenName":"Ada","surname":"L","email":"ada@x.com","userPrincipalName":"ada@x.com",
                "tenantId":"t","userRole":"user"}"#,
        )
        .unwrap();
        assert_eq!(both.aad_object_id.as_deref(), Some("aad-1"));
        assert_eq!(both.email.as_deref(), Some("ada@x.com"));
        assert_eq!(both.given_name.as_deref(), Some("Ada"));
        assert_eq!(both.user_principal_name.as_deref(), Some("ada@x.com"));
        for one in [
            r#"{"id":"29:u","objectId":"aad-2"}"#,
            r#"{"id":"29:u","aadObjectId":"aad-2"}"#,
        ] {
            let m: Member = serde_json::from_str(one).unwrap();
            assert_eq!(m.aad_object_id.as_deref(), Some("aad-2"), "{one}");
        }
        let empty: Member =
            serde_json::from_str(r#"{"id":"29:u","objectId":"","aadObjectId":"aad-3"}"#).unwrap();
        assert_eq!(empty.aad_object_id.as_deref(), Some("aad-3"));
        let none: Member = serde_json::from_str(r#"{"id":"29:u"}"#).unwrap();
        assert_eq!(none.aad_object_id, None);
    }
}
