//! Restoring an object to the value it had at earlier heads, inside a server transaction.
//!
//! This is how a compensation undoes a section written without the right (DESIGN §5.2): the
//! offending change stays in history, and one server change puts the section back. It works on the
//! Automerge object tree itself rather than on the schema types, so it restores fields that this
//! version of the schema does not know, nested Text, and list items, and it keeps every object that
//! still exists (a concurrent legitimate edit landing on it later is not lost). Objects that were
//! deleted cannot be revived: their content is copied into a new object.

use automerge::{transaction::Transactable, ChangeHash, ObjId, ObjType, Prop, ReadDoc, Value};

/// Makes `obj` (of type `ty`) look as it did at `heads`.
pub fn restore_object<T: Transactable + ReadDoc>(
    tx: &mut T,
    obj: &ObjId,
    ty: ObjType,
    heads: &[ChangeHash],
) -> Result<(), automerge::AutomergeError> {
    match ty {
        ObjType::Map | ObjType::Table => restore_map(tx, obj, heads),
        ObjType::List => restore_list(tx, obj, heads),
        ObjType::Text => {
            let old = tx.text_at(obj, heads)?;
            if tx.text(obj)? != old {
                tx.update_text(obj, &old)?;
            }
            Ok(())
        }
    }
}

fn restore_map<T: Transactable + ReadDoc>(tx: &mut T, obj: &ObjId, heads: &[ChangeHash]) -> Result<(), automerge::AutomergeError> {
    let old_keys: Vec<String> = tx.keys_at(obj, heads).collect();
    let current_keys: Vec<String> = tx.keys(obj).collect();
    for key in current_keys.iter().filter(|k| !old_keys.contains(k)) {
        tx.delete(obj, key.as_str())?;
    }
    for key in old_keys {
        let Some((old_value, old_id)) = tx.get_at(obj, key.as_str(), heads)? else { continue };
        let old_value = old_value.to_owned();
        restore_slot(tx, obj, Prop::Map(key), old_value, old_id, heads)?;
    }
    Ok(())
}

/// Restores one map key or list index whose old value is known.
fn restore_slot<T: Transactable + ReadDoc>(
    tx: &mut T,
    obj: &ObjId,
    prop: Prop,
    old_value: Value<'static>,
    old_id: ObjId,
    heads: &[ChangeHash],
) -> Result<(), automerge::AutomergeError> {
    let current = tx.get_all(obj, prop.clone())?;
    match old_value {
        Value::Scalar(old) => {
            let same = current.len() == 1 && matches!(&current[0].0, Value::Scalar(s) if s.as_ref() == old.as_ref());
            if !same {
                tx.put(obj, prop, old.into_owned())?;
            }
        }
        Value::Object(ty) => {
            let same_object = current.len() == 1 && current[0].1 == old_id;
            if same_object {
                restore_object(tx, &old_id, ty, heads)?;
            } else {
                let fresh = tx.put_object(obj, prop, ty)?;
                copy_object(tx, &old_id, ty, &fresh, heads)?;
            }
        }
    }
    Ok(())
}

fn restore_list<T: Transactable + ReadDoc>(tx: &mut T, obj: &ObjId, heads: &[ChangeHash]) -> Result<(), automerge::AutomergeError> {
    let old: Vec<(Value<'static>, ObjId)> = (0..tx.length_at(obj, heads))
        .filter_map(|i| tx.get_at(obj, i, heads).ok().flatten().map(|(v, id)| (v.to_owned(), id)))
        .collect();
    // Remove what was not there before (from the end, so indices stay valid).
    let current_ids: Vec<ObjId> =
        (0..tx.length(obj)).filter_map(|i| tx.get(obj, i).ok().flatten().map(|(_, id)| id)).collect();
    for (i, id) in current_ids.iter().enumerate().rev() {
        if !old.iter().any(|(_, old_id)| old_id == id) {
            tx.delete(obj, i)?;
        }
    }
    // What remains is a subsequence of the old list, in order: put back what is missing.
    for (i, (value, old_id)) in old.into_iter().enumerate() {
        let here = tx.get(obj, i)?.map(|(_, id)| id);
        if here.as_ref() == Some(&old_id) {
            if let Value::Object(ty) = value {
                restore_object(tx, &old_id, ty, heads)?;
            }
            continue;
        }
        match value {
            Value::Scalar(s) => tx.insert(obj, i, s.into_owned())?,
            Value::Object(ty) => {
                let fresh = tx.insert_object(obj, i, ty)?;
                copy_object(tx, &old_id, ty, &fresh, heads)?;
            }
        }
    }
    Ok(())
}

/// Copies `src` as it was at `heads` into the new, empty object `dst`.
fn copy_object<T: Transactable + ReadDoc>(
    tx: &mut T,
    src: &ObjId,
    ty: ObjType,
    dst: &ObjId,
    heads: &[ChangeHash],
) -> Result<(), automerge::AutomergeError> {
    match ty {
        ObjType::Map | ObjType::Table => {
            let keys: Vec<String> = tx.keys_at(src, heads).collect();
            for key in keys {
                let Some((value, id)) = tx.get_at(src, key.as_str(), heads)? else { continue };
                match value.to_owned() {
                    Value::Scalar(s) => tx.put(dst, key.as_str(), s.into_owned())?,
                    Value::Object(t) => {
                        let child = tx.put_object(dst, key.as_str(), t)?;
                        copy_object(tx, &id, t, &child, heads)?;
                    }
                }
            }
        }
        ObjType::List => {
            for i in 0..tx.length_at(src, heads) {
                let Some((value, id)) = tx.get_at(src, i, heads)? else { continue };
                match value.to_owned() {
                    Value::Scalar(s) => tx.insert(dst, i, s.into_owned())?,
                    Value::Object(t) => {
                        let child = tx.insert_object(dst, i, t)?;
                        copy_object(tx, &id, t, &child, heads)?;
                    }
                }
            }
        }
        ObjType::Text => {
            let text = tx.text_at(src, heads)?;
            tx.splice_text(dst, 0, 0, &text)?;
        }
    }
    Ok(())
}
