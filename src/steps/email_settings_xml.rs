//! The organization's `defaultemailsettings` XML (dataverse-reference §2.2):
//! `<EmailSettings><IncomingEmailDeliveryMethod>2</…><OutgoingEmailDeliveryMethod>2</…><ACTDeliveryMethod>1</…></EmailSettings>`.
//! Only the three delivery elements are read or replaced; every other element and the
//! document's own formatting are kept byte for byte.

use crate::error::{Error, Result};

pub const INCOMING: &str = "IncomingEmailDeliveryMethod";
pub const OUTGOING: &str = "OutgoingEmailDeliveryMethod";
pub const ACT: &str = "ACTDeliveryMethod";
const ROOT: &str = "EmailSettings";

/// The integer inside `<element>…</element>`, if present.
pub fn read(xml: &str, element: &str) -> Option<i64> {
    let (start, end) = content_span(xml, element)?;
    xml[start..end].trim().parse().ok()
}

/// Sets `<element>` to `value`, adding the element before `</EmailSettings>` when missing.
/// An empty or missing document becomes a fresh `<EmailSettings>`.
pub fn write(xml: &str, element: &str, value: i64) -> Result<String> {
    let xml = if xml.trim().is_empty() { format!("<{ROOT}></{ROOT}>") } else { xml.to_string() };
    if let Some((start, end)) = content_span(&xml, element) {
        return Ok(format!("{}{value}{}", &xml[..start], &xml[end..]));
    }
    let self_closing = format!("<{element}/>");
    if let Some(at) = xml.find(&self_closing) {
        return Ok(format!("{}<{element}>{value}</{element}>{}", &xml[..at], &xml[at + self_closing.len()..]));
    }
    let close = format!("</{ROOT}>");
    let at = xml.rfind(&close).ok_or_else(|| {
        Error::invalid("The organization's defaultemailsettings is not an <EmailSettings> document; crmsync will not overwrite it.")
            .with_remedy("Inspect the organization's defaultemailsettings value and correct it in the Power Platform admin center (Settings > Email > Server-side synchronization).")
            .with_hint("inspect_defaults")
    })?;
    Ok(format!("{}<{element}>{value}</{element}>{}", &xml[..at], &xml[at..]))
}

/// Byte range of the text between `<element>` and `</element>`.
fn content_span(xml: &str, element: &str) -> Option<(usize, usize)> {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEEDED: &str = "<EmailSettings><IncomingEmailDeliveryMethod>0</IncomingEmailDeliveryMethod><OutgoingEmailDeliveryMethod>1</OutgoingEmailDeliveryMethod><ACTDeliveryMethod>2</ACTDeliveryMethod><SomeOtherSetting>keep</SomeOtherSetting></EmailSettings>";

    #[test]
    fn the_three_elements_are_read_and_replaced_and_others_kept() {
        assert_eq!((read(SEEDED, INCOMING), read(SEEDED, OUTGOING), read(SEEDED, ACT)), (Some(0), Some(1), Some(2)));
        let xml = write(&write(&write(SEEDED, INCOMING, 2).unwrap(), OUTGOING, 2).unwrap(), ACT, 1).unwrap();
        assert_eq!((read(&xml, INCOMING), read(&xml, OUTGOING), read(&xml, ACT)), (Some(2), Some(2), Some(1)));
        assert!(xml.contains("<SomeOtherSetting>keep</SomeOtherSetting>"));
        assert_eq!(xml.len(), SEEDED.len(), "only the digits changed");
    }

    #[test]
    fn missing_elements_and_empty_documents_are_completed() {
        assert_eq!(write("", ACT, 1).unwrap(), "<EmailSettings><ACTDeliveryMethod>1</ACTDeliveryMethod></EmailSettings>");
        assert_eq!(
            write("<EmailSettings><ACTDeliveryMethod/></EmailSettings>", ACT, 0).unwrap(),
            "<EmailSettings><ACTDeliveryMethod>0</ACTDeliveryMethod></EmailSettings>"
        );
        assert!(write("<Other/>", ACT, 1).is_err());
        assert_eq!(read("<EmailSettings/>", ACT), None);
    }
}
