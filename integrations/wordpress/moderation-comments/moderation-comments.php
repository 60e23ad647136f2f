<?php
/**
 * Plugin Name: Moderation Comments
 * Description: Sends every new comment (and every edit of one) to the self-hosted moderation service (signed), keeps it unapproved until the service decides, and applies the service's signed decision callbacks. In shadow mode (a trial) it changes no status and reports the site's own verdicts back instead.
 * Version: 1.2.0
 * Requires at least: 6.0
 * Requires PHP: 7.4
 * License: Apache-2.0
 *
 * @package ModerationComments
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

require_once __DIR__ . '/includes/signing.php';
require_once __DIR__ . '/includes/admin.php';

define( 'MODCOM_RETRIES', 5 );
define( 'MODCOM_META_ID', '_modcom_id' );
define( 'MODCOM_META_EVENT', '_modcom_event' );
define( 'MODCOM_META_TRIES', '_modcom_tries' );
define( 'MODCOM_META_REVISION', '_modcom_revision' );
define( 'MODCOM_META_DIGEST', '_modcom_digest' );
define( 'MODCOM_META_VERDICT_TRIES', '_modcom_verdict_tries' );

/** A setting: a constant in wp-config.php (MODCOM_URL, MODCOM_SITE, MODCOM_SECRET) wins over the option. */
function modcom_setting( $name ) {
	$constant = 'MODCOM_' . strtoupper( $name );
	if ( defined( $constant ) ) {
		return (string) constant( $constant );
	}
	return (string) get_option( 'modcom_' . $name, '' );
}

/** Whether URL, site and secret are all set. */
function modcom_configured() {
	return '' !== modcom_setting( 'url' ) && '' !== modcom_setting( 'site' ) && '' !== modcom_setting( 'secret' );
}

/**
 * 'shadow' (a trial beside the site's own filter: we never change a status) or 'enforce'. MODCOM_MODE in
 * wp-config.php wins; else the option, which every intake answer of the service keeps up to date, so
 * `moderation sites mode SLUG enforce` switches the site over by itself.
 */
function modcom_mode() {
	return 'shadow' === modcom_setting( 'mode' ) ? 'shadow' : 'enforce';
}

/** Remember the mode the service says this site is in (a constant in wp-config.php still wins). */
function modcom_learn_mode( $answer ) {
	if ( is_array( $answer ) && isset( $answer['mode'] ) && in_array( $answer['mode'], array( 'enforce', 'shadow' ), true )
		&& ! defined( 'MODCOM_MODE' ) && get_option( 'modcom_mode', '' ) !== $answer['mode'] ) {
		update_option( 'modcom_mode', $answer['mode'] );
	}
}

/**
 * Hold every new comment until the service decides (spam/trash that WordPress already chose stay as they are).
 * Comments by people who may moderate are trusted and not sent. In shadow mode WordPress's own choice stands.
 */
function modcom_pre_comment_approved( $approved, $commentdata ) {
	if ( 'shadow' === modcom_mode() ) {
		return $approved;
	}
	if ( ! modcom_configured() || 'spam' === $approved || 'trash' === $approved || is_wp_error( $approved ) ) {
		return $approved;
	}
	if ( ! empty( $commentdata['user_id'] ) && user_can( (int) $commentdata['user_id'], 'moderate_comments' ) ) {
		return $approved;
	}
	return 0;
}
add_filter( 'pre_comment_approved', 'modcom_pre_comment_approved', 99, 2 );

/** After WordPress stored a comment we held: send it. In shadow mode: send every comment, then report its verdict. */
function modcom_comment_post( $comment_id, $approved ) {
	if ( ! modcom_configured() ) {
		return;
	}
	if ( 'shadow' === modcom_mode() ) {
		if ( 'trash' !== $approved && modcom_send( (int) $comment_id ) ) {
			modcom_report_verdict( (int) $comment_id, 'filter' );
		}
		return;
	}
	if ( 0 === $approved ) {
		modcom_send( (int) $comment_id );
	}
}
add_action( 'comment_post', 'modcom_comment_post', 10, 2 );
add_action( 'modcom_retry', 'modcom_send' );

/** The plain fields modcom_comment_body() needs, from a stored comment. */
function modcom_comment_fields( WP_Comment $comment ) {
	$fields = get_object_vars( $comment );
	$post   = get_post( (int) $comment->comment_post_ID );
	if ( $post ) {
		$fields['post_url']   = get_permalink( $post );
		$fields['post_title'] = get_the_title( $post );
	}
	$fields['lang']     = strtolower( strtok( (string) get_bloginfo( 'language' ), '-_' ) );
	$fields['revision'] = (int) get_comment_meta( (int) $comment->comment_ID, MODCOM_META_REVISION, true );
	return $fields;
}

/** What an edit may change that the service reads: the text and what the author typed. */
function modcom_digest( WP_Comment $comment ) {
	return md5( implode( "\n", array( $comment->comment_content, $comment->comment_author, $comment->comment_author_email, $comment->comment_author_url ) ) );
}

/**
 * An edited comment the service knows is sent again with the next revision, and the service's answer (the new
 * text scored again: an approved comment turned spam comes back held) is applied at once. Edits that change
 * nothing the service reads (a status change through wp_update_comment) and edits by people who may moderate
 * (trusted, as their own comments are) are not sent.
 */
function modcom_edit_comment( $comment_id ) {
	$comment = get_comment( $comment_id );
	if ( ! $comment || ! modcom_configured() || '' === (string) get_comment_meta( (int) $comment_id, MODCOM_META_ID, true ) ) {
		return;
	}
	if ( current_user_can( 'moderate_comments' ) || modcom_digest( $comment ) === get_comment_meta( (int) $comment_id, MODCOM_META_DIGEST, true ) ) {
		return;
	}
	$revision = (int) get_comment_meta( (int) $comment_id, MODCOM_META_REVISION, true ) + 1;
	update_comment_meta( (int) $comment_id, MODCOM_META_REVISION, $revision );
	modcom_send( (int) $comment_id );
}
add_action( 'edit_comment', 'modcom_edit_comment', 10, 1 );

/**
 * POST a JSON body to the service, signed with the site's secret; returns array( HTTP code (0 on a network
 * error), the response ). Every call the plugin makes goes through here.
 */
function modcom_post( $path, $body ) {
	$headers  = modcom_signed_headers( modcom_setting( 'site' ), modcom_setting( 'secret' ), 'POST', $path, $body );
	$response = wp_remote_post(
		untrailingslashit( modcom_setting( 'url' ) ) . $path,
		array(
			'body'        => $body,
			'headers'     => $headers + array( 'Content-Type' => 'application/json' ),
			'timeout'     => 5,
			'redirection' => 0,
		)
	);
	return array( is_wp_error( $response ) ? 0 : (int) wp_remote_retrieve_response_code( $response ), $response );
}

/**
 * POST one comment to /api/v1/comments, signed. 202/200 record the service's id (and apply a decision the
 * service already has); a network error, 429 or 5xx schedules a retry -- the comment stays held meanwhile.
 */
function modcom_send( $comment_id ) {
	$comment = get_comment( $comment_id );
	if ( ! $comment || ! modcom_configured() ) {
		return false;
	}
	$path     = '/api/v1/comments';
	$body     = modcom_comment_body( modcom_comment_fields( $comment ) );
	list( $code, $response ) = modcom_post( $path, $body );
	if ( 200 === $code || 202 === $code ) {
		$answer = json_decode( wp_remote_retrieve_body( $response ), true );
		if ( is_array( $answer ) && isset( $answer['id'] ) ) {
			update_comment_meta( $comment_id, MODCOM_META_ID, sanitize_text_field( $answer['id'] ) );
			update_comment_meta( $comment_id, MODCOM_META_DIGEST, modcom_digest( $comment ) );
			modcom_learn_mode( $answer );
			if ( 'shadow' !== modcom_mode() && ( ! isset( $answer['mode'] ) || 'shadow' !== $answer['mode'] ) ) {
				modcom_apply_status( $comment_id, isset( $answer['status'] ) ? $answer['status'] : '' );
			}
		}
		delete_comment_meta( $comment_id, MODCOM_META_TRIES );
		return true;
	}
	$tries = (int) get_comment_meta( $comment_id, MODCOM_META_TRIES, true ) + 1;
	update_comment_meta( $comment_id, MODCOM_META_TRIES, $tries );
	if ( ( 0 === $code || 429 === $code || $code >= 500 ) && $tries < MODCOM_RETRIES ) {
		wp_schedule_single_event( time() + 60 * $tries * $tries, 'modcom_retry', array( $comment_id ) );
	}
	// The reason is a status code or a WP_Error code: never the secret, never the comment text.
	error_log( sprintf( 'moderation: comment %d not accepted (%s), try %d', $comment_id, $code ? $code : $response->get_error_code(), $tries ) );
	return false;
}

/** Set the WordPress status for a service status (queued or unknown: nothing changes). */
function modcom_apply_status( $comment_id, $status ) {
	$wp_status = modcom_wp_status( $status );
	if ( null === $wp_status ) {
		return false;
	}
	return (bool) wp_set_comment_status( $comment_id, $wp_status );
}

/** The callback route the service is given as the site's callback URL. */
function modcom_register_route() {
	register_rest_route(
		'moderation/v1',
		'/callback',
		array(
			'methods'             => 'POST',
			'callback'            => 'modcom_handle_callback',
			// Authentication is the HMAC signature, checked first thing in the handler.
			'permission_callback' => '__return_true',
		)
	);
}
add_action( 'rest_api_init', 'modcom_register_route' );

/** The callback URL to register with `moderation sites add SLUG --callback-url URL`. */
function modcom_callback_url() {
	return rest_url( 'moderation/v1/callback' );
}

/**
 * comment.decided / comment.moderated: verify our signature over the raw request, then apply the status.
 * Events may arrive twice or out of order (at-least-once delivery): older event ids than the last applied are ignored.
 */
function modcom_handle_callback( WP_REST_Request $request ) {
	$raw    = $request->get_body();
	$path   = isset( $_SERVER['REQUEST_URI'] ) ? wp_unslash( $_SERVER['REQUEST_URI'] ) : '';
	$reason = modcom_verify(
		modcom_setting( 'secret' ),
		modcom_setting( 'site' ),
		$request->get_header( 'X-Moderation-Site' ),
		$request->get_header( 'X-Moderation-Timestamp' ),
		$request->get_header( 'X-Moderation-Signature' ),
		'POST',
		$path,
		$raw
	);
	if ( '' !== $reason ) {
		return new WP_REST_Response( array( 'error' => $reason ), 401 );
	}
	$event = json_decode( $raw, true );
	if ( ! is_array( $event ) || ! in_array( isset( $event['event'] ) ? $event['event'] : '', array( 'comment.decided', 'comment.moderated' ), true )
		|| ! isset( $event['comment']['external_id'], $event['comment']['status'] ) ) {
		return new WP_REST_Response( array( 'error' => 'not a comment event' ), 400 );
	}
	$c          = $event['comment'];
	$comment_id = ctype_digit( (string) $c['external_id'] ) ? (int) $c['external_id'] : 0;
	$known      = $comment_id ? get_comment_meta( $comment_id, MODCOM_META_ID, true ) : '';
	if ( ! $comment_id || ! get_comment( $comment_id ) || ( $known && isset( $c['id'] ) && $known !== $c['id'] ) ) {
		return new WP_REST_Response( array( 'error' => 'no such comment' ), 404 );
	}
	$event_id = (int) $request->get_header( 'X-Moderation-Event-Id' );
	if ( $event_id && $event_id < (int) get_comment_meta( $comment_id, MODCOM_META_EVENT, true ) ) {
		return new WP_REST_Response( array( 'applied' => false, 'reason' => 'older event' ), 200 );
	}
	if ( ! $known && isset( $c['id'] ) ) {
		update_comment_meta( $comment_id, MODCOM_META_ID, sanitize_text_field( $c['id'] ) );
	}
	if ( $event_id ) {
		update_comment_meta( $comment_id, MODCOM_META_EVENT, $event_id );
	}
	// The mode is learnt from intake answers only: a callback's is the one of its decision, possibly older.
	if ( ( isset( $c['mode'] ) && 'shadow' === $c['mode'] ) || 'shadow' === modcom_mode() ) {
		// A trial: the site's own filter and moderators decide; ours is only recorded for the comparison.
		return new WP_REST_Response( array( 'applied' => false, 'reason' => 'shadow mode', 'status' => wp_get_comment_status( $comment_id ) ), 200 );
	}
	$applied = modcom_apply_status( $comment_id, $c['status'] );
	return new WP_REST_Response( array( 'applied' => $applied, 'status' => wp_get_comment_status( $comment_id ) ), 200 );
}

/** The verdict the service takes for a WordPress comment status (null: nothing to report, e.g. deleted). */
function modcom_verdict_for( $wp_status ) {
	$map = array(
		'approved'   => 'approved',
		'unapproved' => 'held',
		'spam'       => 'spam',
		'trash'      => 'rejected',
	);
	return isset( $map[ $wp_status ] ) ? $map[ $wp_status ] : null;
}

/**
 * Shadow mode: tell the service what this site finally did with a comment (its current status), signed like every
 * request. $source says who decided: 'filter' (WordPress, Akismet) or 'moderator'. A failure is retried later.
 */
function modcom_report_verdict( $comment_id, $source = 'filter' ) {
	$service_id = (string) get_comment_meta( $comment_id, MODCOM_META_ID, true );
	$verdict    = modcom_verdict_for( wp_get_comment_status( $comment_id ) );
	if ( '' === $service_id || null === $verdict || ! modcom_configured() ) {
		return false;
	}
	$path     = '/api/v1/comments/' . rawurlencode( $service_id ) . '/verdict';
	$body     = wp_json_encode( array( 'verdict' => $verdict, 'source' => $source ) );
	list( $code, $response ) = modcom_post( $path, $body );
	if ( 200 === $code ) {
		delete_comment_meta( $comment_id, MODCOM_META_VERDICT_TRIES );
		return true;
	}
	$tries = (int) get_comment_meta( $comment_id, MODCOM_META_VERDICT_TRIES, true ) + 1;
	update_comment_meta( $comment_id, MODCOM_META_VERDICT_TRIES, $tries );
	if ( ( 0 === $code || 429 === $code || $code >= 500 ) && $tries < MODCOM_RETRIES ) {
		wp_schedule_single_event( time() + 60 * $tries * $tries, 'modcom_verdict_retry', array( $comment_id, $source ) );
	}
	error_log( sprintf( 'moderation: verdict for comment %d not accepted (%s), try %d', $comment_id, $code ? $code : $response->get_error_code(), $tries ) );
	return false;
}
add_action( 'modcom_verdict_retry', 'modcom_report_verdict', 10, 2 );

/** Shadow mode: a status change on the site (a moderator, Akismet, WordPress) is its verdict; report it. */
function modcom_transition_comment_status( $new_status, $old_status, $comment ) {
	if ( $new_status === $old_status || 'shadow' !== modcom_mode() || ! $comment instanceof WP_Comment ) {
		return;
	}
	$source = current_user_can( 'moderate_comments' ) ? 'moderator' : 'filter';
	modcom_report_verdict( (int) $comment->comment_ID, $source );
}
add_action( 'transition_comment_status', 'modcom_transition_comment_status', 10, 3 );
