//! `dirgate group`: business entities and groups.

use super::{open_directory, CliError, GlobalArgs, GroupCommand};
use crate::config::Config;
use crate::core::{Actor, NewNode};
use crate::model::NodeKind;
use crate::model::Page;

pub fn run(global: &GlobalArgs, config: &Config, cmd: GroupCommand) -> Result<(), CliError> {
    let dir = open_directory(&global.data, config)?;
    let sys = Actor::System;
    match cmd {
        GroupCommand::Add {
            name,
            parent,
            entity,
        } => {
            let parent = parent
                .map(|p| dir.node_by_name(&sys, &p).map(|n| n.id))
                .transpose()?;
            let kind = if entity {
                NodeKind::BusinessEntity
            } else {
                NodeKind::Group
            };
            let node = dir.create_node(
                &sys,
                NewNode {
                    name,
                    kind,
                    parent,
                    external_id: None,
                },
            )?;
            println!(
                "created {} {} ({})",
                kind.display_name(),
                node.name,
                node.uuid
            );
        }
        GroupCommand::AddMember { group, user } => {
            let node = dir.node_by_name(&sys, &group)?;
            let account = dir.account_by_user_name(&sys, &user)?;
            dir.add_member(&sys, node.id, account.id)?;
            println!("{} is a member of {}", account.user_name, node.name);
        }
        GroupCommand::RemoveMember { group, user } => {
            let node = dir.node_by_name(&sys, &group)?;
            let account = dir.account_by_user_name(&sys, &user)?;
            dir.remove_member(&sys, node.id, account.id)?;
            println!(
                "{} is no longer a member of {}",
                account.user_name, node.name
            );
        }
        GroupCommand::List => {
            let nodes = dir.list_nodes(&sys, Page::ALL)?;
            let name_of = |id| {
                nodes
                    .iter()
                    .find(|n| n.id == id)
                    .map_or("?", |n| n.name.as_str())
            };
            for n in &nodes {
                let parent = n.parent.map_or("", name_of);
                println!("{:<32}  {:<16}  {}", n.name, n.kind.display_name(), parent);
            }
        }
    }
    Ok(())
}
