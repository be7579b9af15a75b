//! What the stack tests share.

#![allow(dead_code)]

pub mod inventory;
