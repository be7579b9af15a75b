//! Resource identity: `urn:strata:<stack>::<type>::<name>`.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The identity of a resource in a stack: stack, resource type and logical name.
///
/// URNs are cheap to clone (one shared allocation) and order lexicographically, which
/// keeps the state document byte-stable.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Urn(Arc<str>);

const PREFIX: &str = "urn:strata:";

impl Urn {
    /// Builds the URN of `name`, of type `type_name`, in `stack`.
    pub fn new(stack: &str, type_name: &str, name: &str) -> Self {
        Urn(format!("{PREFIX}{stack}::{type_name}::{name}").into())
    }

    /// Parses a URN string. Returns `None` unless it has the form
    /// `urn:strata:<stack>::<type>::<name>`.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix(PREFIX)?;
        let mut parts = rest.splitn(3, "::");
        let (stack, ty, name) = (parts.next()?, parts.next()?, parts.next()?);
        if stack.is_empty() || ty.is_empty() || name.is_empty() {
            return None;
        }
        Some(Urn(s.into()))
    }

    fn parts(&self) -> (&str, &str, &str) {
        let rest = self.0.strip_prefix(PREFIX).unwrap_or(&self.0);
        let mut parts = rest.splitn(3, "::");
        let stack = parts.next().unwrap_or_default();
        let ty = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        (stack, ty, name)
    }

    /// The stack part.
    pub fn stack(&self) -> &str {
        self.parts().0
    }

    /// The resource type part, for example `aws:ec2/vpc`.
    pub fn type_name(&self) -> &str {
        self.parts().1
    }

    /// The logical name the program gave the resource.
    pub fn name(&self) -> &str {
        self.parts().2
    }

    /// The whole URN as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl Serialize for Urn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Urn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Urn::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a strata URN: {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip() {
        let u = Urn::new("dev", "aws:ec2/vpc", "main::x");
        assert_eq!(u.stack(), "dev");
        assert_eq!(u.type_name(), "aws:ec2/vpc");
        assert_eq!(u.name(), "main::x");
        assert_eq!(Urn::parse(u.as_str()), Some(u));
        assert_eq!(Urn::parse("urn:strata:dev::x"), None);
        assert_eq!(Urn::parse("arn:aws:x"), None);
    }
}
